"""The moderation journey in a real browser, from issue 6's "Done means".

Three citizens flag the same comment in a debate, each from their own browser: the third flag
hides it pending review, and a visitor reading the debate sees the moderation notice in its
place. A moderator opens the queue, finds the case at the top, and hides the comment with a rule
and a statement of reasons. The author follows the notification to the statement of reasons,
reads what was decided and why, and appeals. A second moderator finds the appeal in the queue and
overturns the decision: the comment is back in the debate, and the author reads the outcome.

The database is checked after every step. It runs on a desktop in English and on a phone
(390 × 844, touch) in Italian; visible texts are checked on the English run only.
"""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Notification, Role
from app.models.discussion import Comment, Debate
from app.models.moderation import Action, AppealStatus, CaseStatus, Hold, ModerationAppeal
from app.models.report import Flag
from app.moderation import services
from tests.conftest import TEST_PASSWORD

SUBMIT = "main form button[type=submit]"
COMMENT = "Chi la pensa così dovrebbe vergognarsi, siete tutti degli ignoranti."
REASON = "Insulti generici a chi non è d'accordo: critica le idee, non le persone."
ANSWER = "Rileggendo la discussione, il tono è duro ma non è un insulto personale."

DEVICES = {
    "desktop": {"locale": "en-US", "viewport": {"width": 1280, "height": 900}},
    "phone": {"locale": "it-IT", "viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}


@pytest.fixture
def cast(app, make_user):
    people = {name: make_user(display_name=name.title(), email=f"{name}@example.org")
              for name in ("author", "opener", "flagger1", "flagger2", "flagger3")}
    people["mod1"] = make_user(roles=(Role.citizen, Role.moderator), display_name="Moderatrice Uno",
                               email="mod1@example.org")
    people["mod2"] = make_user(roles=(Role.citizen, Role.moderator), display_name="Moderatore Due",
                               email="mod2@example.org")
    with app.app_context():
        debate = Debate(author_id=people["opener"].id, title="Ztl anche al pomeriggio?",
                        body="Parliamone con calma.")
        db.session.add(debate)
        db.session.flush()
        comment = Comment(target_type="debate", target_id=debate.id, author_id=people["author"].id, body=COMMENT)
        db.session.add(comment)
        debate.comment_count = 1
        db.session.commit()
        people["debate_id"], people["comment_id"] = debate.id, comment.id
    return people


def sign_in(page, email):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.click(SUBMIT)
    expect(page.locator('header form[action="/logout"]')).to_have_count(1)


def comment_state(app, comment_id):
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        case = services.case_for("comment", comment_id)
        return comment.hidden_at, case


@pytest.mark.browser
@pytest.mark.parametrize("device", list(DEVICES))
def test_flags_hide_a_comment_a_moderator_hides_it_the_author_appeals_another_restores(device, new_page, app,
                                                                                      live_server, cast):
    options = DEVICES[device]
    english = device == "desktop"
    debate_path = f"/debates/{cast['debate_id']}"
    cid = cast["comment_id"]

    # 1. Three citizens flag the comment, each in their own browser.
    for n, name in enumerate(("flagger1", "flagger2", "flagger3"), start=1):
        page = new_page(**options)
        sign_in(page, f"{name}@example.org")
        page.goto(debate_path)
        flag_box = page.locator(f"#comment-{cid} details:has(form[action$='/flag'])")
        flag_box.locator("summary").click()
        flag_box.locator(f"label[for='flag-{cid}-offensive']").click()
        flag_box.locator("button[type=submit]").click()
        expect(page.locator(".flash, [role=status], .flash-success").first).to_be_visible()
        hidden_at, case = comment_state(app, cid)
        assert case.flag_count == n
        assert (hidden_at is not None) == (n == 3)
        page.context.close()
    hidden_at, case = comment_state(app, cid)
    assert case.status == CaseStatus.pending and case.hold == Hold.flags
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Flag).where(Flag.target_id == cid)) == 3
        assert db.session.scalar(select(Notification).where(Notification.user_id == cast["author"].id,
                                                            Notification.kind == "moderation.auto_hidden"))

    # A visitor reads the debate: the notice stands where the comment was, not its text.
    visitor = new_page(**options)
    visitor.goto(debate_path)
    notice = visitor.locator(f"#comment-{cid} [data-moderation-notice], #comment-{cid} .comment-gone")
    expect(notice).to_have_count(1)
    assert COMMENT not in visitor.content()

    # 2. A moderator opens the queue: the case is at the top; she hides the comment with a reason.
    mod1 = new_page(**options)
    sign_in(mod1, "mod1@example.org")
    expect(mod1.locator("header a[href='/moderation']")).to_contain_text(re.compile(r"\d"))
    mod1.click("header a[href='/moderation']")
    first_row = mod1.locator("tr[data-case-id]").first
    expect(first_row).to_have_attribute("data-case-id", str(case.id))
    first_row.locator("a[href*='/moderation/cases/']").click()
    expect(mod1.locator("#flags li")).to_have_count(3)
    expect(mod1.locator("#text-body")).to_contain_text("siete tutti degli ignoranti")
    mod1.select_option("#hide-rule", "respect")
    mod1.fill("#hide-reason", REASON)
    mod1.click("#form-hide button[type=submit]")
    hidden_at, case = comment_state(app, cid)
    assert hidden_at is not None and case.status == CaseStatus.decided
    with app.app_context():
        decision = services.case_for("comment", cid).last_decision
        assert (decision.action, decision.rule, decision.reason, decision.moderator_id) == (
            Action.hide, "respect", REASON, cast["mod1"].id)
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "moderation.hide",
                                                          AuditEvent.target_id == cid)) is not None
        decision_id = decision.id

    # 3. The author follows the notification to the statement of reasons and appeals.
    author = new_page(**options)
    sign_in(author, "author@example.org")
    with app.app_context():
        note_id = db.session.scalar(select(Notification.id).where(Notification.user_id == cast["author"].id,
                                                                  Notification.kind == "moderation.decided"))
    author.goto("/notifications")
    author.locator(f"form[action='/notifications/{note_id}/read'] button").click()
    expect(author).to_have_url(live_server(f"/moderation/decisions/{decision_id}"))
    expect(author.locator("dd[data-action=hide]")).to_have_count(1)
    expect(author.locator(".statement-reason")).to_have_text(REASON)
    if english:
        expect(author.locator("main")).to_contain_text("Respect people")
    author.fill("#text", "Era una critica al modo di discutere, non un insulto a qualcuno in particolare.")
    author.click(SUBMIT)
    with app.app_context():
        appeal = db.session.scalar(select(ModerationAppeal).where(ModerationAppeal.decision_id == decision_id))
        assert appeal is not None and appeal.status == AppealStatus.pending
        assert appeal.author_id == cast["author"].id
        assert services.case_for("comment", cid).status == CaseStatus.pending
    # The first moderator sees the appeal but may not decide it.
    mod1.goto(f"/moderation/cases/{case.id}")
    expect(mod1.locator("#appeal-own-decision")).to_have_count(1)
    expect(mod1.locator("#form-appeal")).to_have_count(0)

    # 4. A second moderator finds the appeal in the queue and overturns the decision.
    mod2 = new_page(**options)
    sign_in(mod2, "mod2@example.org")
    mod2.goto("/moderation?status=appeals")
    mod2.locator(f"tr[data-case-id='{case.id}'] a[href*='/moderation/cases/']").click()
    mod2.locator("#form-appeal input[name=outcome][value=overturned]").check()
    mod2.fill("#answer", ANSWER)
    mod2.click("#form-appeal button[type=submit]")
    hidden_at, case = comment_state(app, cid)
    assert hidden_at is None and case.status == CaseStatus.decided
    with app.app_context():
        appeal = db.session.get(ModerationAppeal, appeal.id)
        assert appeal.status == AppealStatus.overturned and appeal.decided_by_id == cast["mod2"].id
        assert services.case_for("comment", cid).last_decision.action == Action.restore
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "moderation.appeal_overturned"))
        assert db.session.get(Debate, cast["debate_id"]).comment_count == 1

    # The comment is back for everyone, and the author reads the outcome.
    visitor.goto(debate_path)
    expect(visitor.locator(f"#comment-{cid} .comment-body")).to_contain_text("siete tutti degli ignoranti")
    author.goto(f"/moderation/decisions/{decision_id}")
    expect(author.locator("[data-appeal-outcome=overturned]")).to_have_count(1)
    expect(author.locator("main")).to_contain_text(ANSWER)
    for name, page in (("visitor", visitor), ("moderator", mod1), ("second-moderator", mod2), ("author", author)):
        page.screenshot(path=f"tests/artifacts/moderation-{device}-{name}.png", full_page=True)
        assert page.problems == [], name

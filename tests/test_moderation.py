"""Moderation rules: flags that hide, decisions with reasons, redaction kept only in the audit log,
blocks, appeals decided by another moderator, pre-moderation, the queue's figures."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.auth.services import AccountBlocked, authenticate
from app.comments import services as comments
from app.extensions import db
from app.models import AuditEvent, Notification, OutboxEmail, Role, User
from app.models.base import DomainError, IllegalTransition, NotFound, PermissionDenied, utcnow
from app.models.discussion import Comment, Debate
from app.models.moderation import Action, AppealStatus, CaseStatus, Hold, ModerationCase
from app.models.photo import Photo
from app.models.report import Flag
from app.moderation import services
from tests.conftest import TEST_PASSWORD
from tests.test_proposals import build_process, new_proposal


@pytest.fixture
def people(app_ctx, make_user):
    built = {name: make_user(display_name=name.title()) for name in ("author", "anna", "bea", "carlo", "dario")}
    built["mod"] = make_user(roles=(Role.citizen, Role.moderator), display_name="Mod One")
    built["mod2"] = make_user(roles=(Role.citizen, Role.moderator), display_name="Mod Two")
    built["official"] = make_user(roles=(Role.citizen, Role.official), display_name="Official")
    return {key: db.session.get(User, u.id) for key, u in built.items()}


def debate_by(user, title="Una piazza per tutti", body="Parliamone insieme."):
    debate = Debate(author_id=user.id, title=title, body=body)
    db.session.add(debate)
    db.session.commit()
    return debate


def comment_by(user, debate, body="Sono d'accordo con la proposta."):
    comment = comments.post_comment(user, "debate", debate.id, body)
    db.session.commit()
    return comment


def flag_by(users, target_type, target_id, reason="offensive"):
    for user in users:
        services.flag(user, target_type, target_id, reason)
    db.session.commit()


@pytest.fixture
def flagged(people):
    """A comment hidden by three distinct flags."""
    debate = debate_by(people["anna"])
    comment = comment_by(people["author"], debate)
    flag_by([people["anna"], people["bea"], people["carlo"]], "comment", comment.id)
    return comment


def case_of(target_type, target_id):
    return services.case_for(target_type, target_id)


# --- flags ----------------------------------------------------------------------------------

def test_one_flag_per_user_a_second_updates_it(people):
    comment = comment_by(people["author"], debate_by(people["anna"]))
    services.flag(people["anna"], "comment", comment.id, "spam")
    services.flag(people["anna"], "comment", comment.id, "other", "Pubblicità di un negozio")
    db.session.commit()
    rows = db.session.scalars(select(Flag).where(Flag.target_type == "comment", Flag.target_id == comment.id)).all()
    assert [(f.reason, f.text) for f in rows] == [("other", "Pubblicità di un negozio")]
    assert case_of("comment", comment.id).flag_count == 1
    assert db.session.get(Comment, comment.id).hidden_at is None


def test_three_distinct_flags_hide_and_tell_the_author(people, flagged):
    comment = db.session.get(Comment, flagged.id)
    assert comment.hidden_at is not None
    case = case_of("comment", comment.id)
    assert (case.status, case.hold, case.flag_count, case.author_id) == (
        CaseStatus.pending, Hold.flags, 3, people["author"].id)
    kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == people["author"].id)).all()
    assert "moderation.auto_hidden" in kinds
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "moderation.auto_hidden")) == 1
    notice = services.hidden_notice("comment", comment)
    assert notice["pending"] is True and notice["date"] == comment.hidden_at


def test_the_threshold_is_configuration(app, people):
    app.config["MODERATION_HIDE_THRESHOLD"] = 2
    try:
        comment = comment_by(people["author"], debate_by(people["anna"]))
        flag_by([people["anna"], people["bea"]], "comment", comment.id)
        assert db.session.get(Comment, comment.id).hidden_at is not None
    finally:
        app.config["MODERATION_HIDE_THRESHOLD"] = 3


def test_flag_refusals(people):
    comment = comment_by(people["author"], debate_by(people["anna"]))
    with pytest.raises(DomainError):
        services.flag(people["author"], "comment", comment.id, "spam")  # own content
    with pytest.raises(DomainError) as exc:
        services.flag(people["anna"], "comment", comment.id, "nonsense")
    assert exc.value.details["field"] == "reason"
    with pytest.raises(DomainError) as exc:
        services.flag(people["anna"], "comment", comment.id, "other", "  ")
    assert exc.value.details["field"] == "text"
    with pytest.raises(NotFound):
        services.flag(people["anna"], "comment", 999999, "spam")
    with pytest.raises(NotFound):
        services.flag(people["anna"], "banana", comment.id, "spam")


def test_a_draft_cannot_be_flagged(people):
    process = build_process()
    draft = new_proposal(process, people["author"], publish=False)
    with pytest.raises(NotFound):
        services.flag(people["anna"], "proposal", draft.id, "spam")


def test_every_kind_of_content_can_be_flagged(people):
    """Reports, proposals, comments, debates, pact texts and reports, photos, profiles, calls for help."""
    from app.moderation.registry import KINDS

    assert {"report", "proposal", "comment", "debate", "pact", "pact_report", "photo", "user",
            "help_call"} <= set(KINDS)
    services.flag(people["anna"], "user", people["author"].id, "offensive", None)
    db.session.commit()
    assert case_of("user", people["author"].id).flag_count == 1


def test_hiding_a_debate_takes_its_comments_out_of_sight(people):
    debate = debate_by(people["author"])
    comment_by(people["anna"], debate)
    flag_by([people["anna"], people["bea"], people["carlo"]], "debate", debate.id)
    assert db.session.get(Debate, debate.id).hidden_at is not None
    with pytest.raises(NotFound):
        comments.get_item("debate", debate.id)
    case = case_of("debate", debate.id)
    services.decide(case, people["mod"], "restore")
    db.session.commit()
    spec, item = comments.get_item("debate", debate.id)
    assert item.id == debate.id


# --- decisions ------------------------------------------------------------------------------

def test_restore_shows_the_item_and_new_flags_count_afresh(people, flagged):
    case = case_of("comment", flagged.id)
    decision = services.decide(case, people["mod"], "restore")
    db.session.commit()
    assert db.session.get(Comment, flagged.id).hidden_at is None
    case = case_of("comment", flagged.id)
    assert (case.status, case.flag_count, case.last_decision_id) == (CaseStatus.decided, 0, decision.id)
    services.flag(people["dario"], "comment", flagged.id, "spam", now=utcnow() + timedelta(seconds=1))
    db.session.commit()
    case = case_of("comment", flagged.id)
    assert (case.status, case.flag_count) == (CaseStatus.pending, 1)
    assert db.session.get(Comment, flagged.id).hidden_at is None


def test_hide_needs_a_rule_and_a_reason(people, flagged):
    case = case_of("comment", flagged.id)
    with pytest.raises(DomainError) as exc:
        services.decide(case, people["mod"], "hide", reason="Insulti")
    assert exc.value.details["field"] == "rule"
    with pytest.raises(DomainError) as exc:
        services.decide(case, people["mod"], "hide", rule="respect", reason=" ")
    assert exc.value.details["field"] == "reason"
    services.decide(case, people["mod"], "hide", rule="respect", reason="Insulti a un altro partecipante.")
    db.session.commit()
    comment = db.session.get(Comment, flagged.id)
    assert comment.hidden_at is not None
    notice = services.hidden_notice("comment", comment)
    assert notice == {"date": notice["date"], "reason": "Insulti a un altro partecipante.", "rule": "respect",
                      "pending": False, "held": False}
    note = db.session.scalar(select(Notification).where(Notification.user_id == people["author"].id,
                                                        Notification.kind == "moderation.decided"))
    assert note is not None and note.url == f"/moderation/decisions/{case.last_decision_id}"


def test_only_moderators_decide_and_never_on_their_own_content(people):
    comment = comment_by(people["mod"], debate_by(people["anna"]))
    flag_by([people["anna"]], "comment", comment.id)
    case = case_of("comment", comment.id)
    with pytest.raises(PermissionDenied):
        services.decide(case, people["official"], "restore")
    with pytest.raises(PermissionDenied):
        services.decide(case, people["mod"], "hide", rule="spam", reason="x")
    services.decide(case, people["mod2"], "restore")


def test_redaction_keeps_the_original_only_in_the_audit_log(people):
    debate = debate_by(people["author"], body="Chiamate Mario al 333 1234567 per info.")
    flag_by([people["anna"]], "debate", debate.id, "personal_data")
    case = case_of("debate", debate.id)
    services.decide(case, people["mod"], "redact", rule="privacy", reason="Numero di telefono di un privato.",
                    redactions={"body": "Chiamate Mario [numero rimosso] per info."})
    db.session.commit()
    debate = db.session.get(Debate, debate.id)
    assert debate.body == "Chiamate Mario [numero rimosso] per info." and debate.hidden_at is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "moderation.redact"))
    assert event.details["original"] == {"body": "Chiamate Mario al 333 1234567 per info."}
    # Nowhere else: not in the decision, not in the notification.
    assert "1234567" not in (case.last_decision.reason or "")
    texts = db.session.scalars(select(Notification.params)).all()
    assert not any("1234567" in str(p) for p in texts)


def test_redaction_must_change_something_and_only_text_fields(people):
    debate = debate_by(people["author"])
    flag_by([people["anna"]], "debate", debate.id, "personal_data")
    case = case_of("debate", debate.id)
    with pytest.raises(DomainError):
        services.decide(case, people["mod"], "redact", rule="privacy", reason="x", redactions={"body": debate.body})
    with pytest.raises(DomainError):
        services.decide(case, people["mod"], "redact", rule="privacy", reason="x", redactions={"author_id": "1"})


def test_redaction_can_remove_a_photo(people):
    process = build_process()
    proposal = new_proposal(process, people["author"])
    photo = Photo(owner_type="proposal", owner_id=proposal.id, storage_key="k" * 20, thumb_key="t" * 20, width=10,
                  height=10, thumb_width=5, thumb_height=5, size_bytes=100, uploaded_by_id=people["author"].id)
    db.session.add(photo)
    db.session.commit()
    flag_by([people["anna"]], "proposal", proposal.id, "personal_data")
    services.decide(case_of("proposal", proposal.id), people["mod"], "redact", rule="privacy",
                    reason="Targa leggibile nella foto.", remove_photo_ids=[photo.id])
    db.session.commit()
    assert db.session.get(Photo, photo.id).hidden_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "moderation.redact"))
    assert event.details["original"] == {"photos": [photo.id]}


# --- blocks ---------------------------------------------------------------------------------

def test_block_hides_everything_removes_roles_and_refuses_login(people, make_user):
    bad = db.session.get(User, make_user(roles=(Role.citizen, Role.facilitator), display_name="Spammer",
                                         email="spam@example.org").id)
    debate = debate_by(bad)
    comment = comment_by(bad, debate_by(people["anna"]))
    version = bad.session_version
    flag_by([people["anna"]], "comment", comment.id, "spam")
    services.decide(case_of("comment", comment.id), people["mod"], "block", rule="spam",
                    reason="Pubblicità ripetuta in tutte le discussioni.")
    db.session.commit()
    bad = db.session.get(User, bad.id)
    assert bad.is_blocked and bad.blocked_at is not None and bad.roles == {Role.citizen}
    assert bad.session_version == version + 1
    assert db.session.get(Debate, debate.id).hidden_at is not None
    assert db.session.get(Comment, comment.id).hidden_at is not None
    notice = services.hidden_notice("debate", db.session.get(Debate, debate.id))
    assert (notice["rule"], notice["pending"]) == ("spam", False)
    assert "Pubblicità ripetuta" not in notice["reason"]  # the justification is the account holder's to read
    with pytest.raises(AccountBlocked) as exc:
        authenticate("spam@example.org", TEST_PASSWORD)
    assert "Pubblicità ripetuta" in exc.value.message
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == "spam@example.org"))
    assert mail is not None and "Pubblicità ripetuta" in mail.body_text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "moderation.block"))
    assert event.details["roles_removed"] == ["facilitator"] and event.details["hidden"] == {"comment": 1,
                                                                                              "debate": 1}


def test_block_needs_a_justification_and_spares_admins(people, make_user):
    admin = db.session.get(User, make_user(roles=(Role.citizen, Role.admin)).id)
    with pytest.raises(DomainError):
        services.block_user(people["author"], people["mod"], rule="spam", reason="")
    with pytest.raises(PermissionDenied):
        services.block_user(admin, people["mod"], rule="spam", reason="x")
    with pytest.raises(PermissionDenied):
        services.block_user(people["mod"], people["mod"], rule="spam", reason="x")


# --- appeals --------------------------------------------------------------------------------

@pytest.fixture
def hidden_decision(people, flagged):
    decision = services.decide(case_of("comment", flagged.id), people["mod"], "hide", rule="respect",
                               reason="Tono offensivo.")
    db.session.commit()
    return decision


def test_the_author_appeals_once_and_another_moderator_decides(people, hidden_decision):
    decision = hidden_decision
    with pytest.raises(PermissionDenied):
        services.appeal(decision, people["anna"], "Non è giusto, era una battuta.")
    with pytest.raises(DomainError):
        services.appeal(decision, people["author"], "no")
    appeal = services.appeal(decision, people["author"], "Era una citazione, non un insulto.")
    db.session.commit()
    assert case_of("comment", decision.case.target_id).status == CaseStatus.pending
    with pytest.raises(IllegalTransition):
        services.appeal(decision, people["author"], "Ancora: era una citazione.")
    with pytest.raises(PermissionDenied):
        services.decide_appeal(appeal, people["mod"], "overturned", "Ok")
    services.decide_appeal(appeal, people["mod2"], "overturned", "Rileggendo il contesto, era una citazione.")
    db.session.commit()
    assert db.session.get(Comment, decision.case.target_id).hidden_at is None
    appeal = services.appeal_of(decision)
    assert appeal.status == AppealStatus.overturned and appeal.decided_by_id == people["mod2"].id
    case = case_of("comment", decision.case.target_id)
    assert case.status == CaseStatus.decided and case.last_decision.action == Action.restore
    assert db.session.scalar(select(Notification).where(Notification.user_id == people["author"].id,
                                                        Notification.kind == "moderation.appeal_decided"))
    with pytest.raises(IllegalTransition):
        services.decide_appeal(appeal, people["mod2"], "upheld", "Di nuovo")


def test_a_moderator_cannot_decide_their_own_appeal(people, make_user):
    """A moderator whose own content was hidden by a colleague appeals like anyone; they cannot decide it."""
    mod3 = db.session.get(User, make_user(roles=(Role.citizen, Role.moderator)).id)
    comment = comment_by(people["mod2"], debate_by(people["anna"]))
    flag_by([people["anna"]], "comment", comment.id)
    decision = services.decide(case_of("comment", comment.id), people["mod"], "hide", rule="on_topic",
                               reason="Fuori tema.")
    appeal = services.appeal(decision, people["mod2"], "Era in tema, parlavo della piazza.")
    db.session.commit()
    with pytest.raises(PermissionDenied):
        services.decide_appeal(appeal, people["mod2"], "overturned", "Ho ragione io.")
    services.decide_appeal(appeal, mod3, "upheld", "Resta fuori tema.")
    db.session.commit()
    assert db.session.get(Comment, comment.id).hidden_at is not None


def test_appeal_window_is_fourteen_days(people, hidden_decision):
    late = hidden_decision.created_at + timedelta(days=14, minutes=1)
    assert not services.can_appeal(hidden_decision, people["author"], now=late)
    with pytest.raises(IllegalTransition):
        services.appeal(hidden_decision, people["author"], "Troppo tardi ma ci provo.", now=late)


def test_overturning_a_redaction_puts_the_text_back(people):
    debate = debate_by(people["author"], body="Il mio vicino Paolo Bianchi parcheggia sempre lì.")
    flag_by([people["anna"]], "debate", debate.id, "personal_data")
    decision = services.decide(case_of("debate", debate.id), people["mod"], "redact", rule="privacy",
                               reason="Nome di un privato.", redactions={"body": "Il mio vicino parcheggia sempre lì."})
    appeal = services.appeal(decision, people["author"], "È un personaggio pubblico, il consigliere.")
    db.session.commit()
    services.decide_appeal(appeal, people["mod2"], "overturned", "Verificato: è un consigliere di circoscrizione.")
    db.session.commit()
    assert db.session.get(Debate, debate.id).body == "Il mio vicino Paolo Bianchi parcheggia sempre lì."


def test_a_restore_cannot_be_appealed(people, flagged):
    decision = services.decide(case_of("comment", flagged.id), people["mod"], "restore")
    with pytest.raises(IllegalTransition):
        services.appeal(decision, people["author"], "Voglio appellare comunque.")


# --- pre-moderation -------------------------------------------------------------------------

def test_a_listed_word_holds_a_contribution(people):
    services.add_word(people["mod"], "  Truffa  ")
    db.session.commit()
    assert [w.word for w in services.words()] == ["truffa"]
    with pytest.raises(DomainError):
        services.add_word(people["mod"], "truffa")
    with pytest.raises(PermissionDenied):
        services.add_word(people["anna"], "altro")
    debate = debate_by(people["author"], body="Questa è una TRUFFA!")
    assert services.screen("debate", debate, people["author"]) == Hold.words
    db.session.commit()
    assert db.session.get(Debate, debate.id).hidden_at is not None
    case = case_of("debate", debate.id)
    assert (case.status, case.hold) == (CaseStatus.pending, Hold.words)
    # Word boundaries: "truffatore" is not "truffa".
    other = debate_by(people["author"], body="Il truffatore è stato preso.")
    assert services.screen("debate", other, people["author"]) is None


def test_links_and_first_contributions_are_held_when_configured(app, people, make_user):
    newbie = db.session.get(User, make_user().id)
    app.config.update(MODERATION_HOLD_LINKS=True, MODERATION_HOLD_FIRST=2)
    try:
        linked = debate_by(people["author"], body="Guardate https://example.com/offerta")
        first = debate_by(newbie, body="Primo messaggio.")
        assert services.screen("debate", first, newbie) == Hold.new_account
        second = debate_by(newbie, body="Secondo messaggio.")
        assert services.screen("debate", second, newbie) == Hold.new_account
        third = debate_by(newbie, body="Terzo messaggio.")
        assert services.screen("debate", third, newbie) is None
        assert services.screen("debate", linked, people["author"]) == Hold.links
        # Staff are never held.
        staff = debate_by(people["official"], body="Info: https://comune.torino.it")
        assert services.screen("debate", staff, people["official"]) is None
    finally:
        app.config.update(MODERATION_HOLD_LINKS=False, MODERATION_HOLD_FIRST=0)


def test_approving_a_held_item_publishes_it(people):
    services.add_word(people["mod"], "truffa")
    debate = debate_by(people["author"], body="Una truffa?")
    services.screen("debate", debate, people["author"])
    db.session.commit()
    services.decide(case_of("debate", debate.id), people["mod"], "restore")
    db.session.commit()
    assert db.session.get(Debate, debate.id).hidden_at is None


# --- the queue and its figures ----------------------------------------------------------------

def test_queue_pending_first_most_flagged_first(people):
    debate = debate_by(people["anna"])
    once = comment_by(people["author"], debate, "Uno")
    twice = comment_by(people["author"], debate, "Due")
    flag_by([people["anna"]], "comment", once.id)
    flag_by([people["anna"], people["bea"]], "comment", twice.id)
    decided = comment_by(people["author"], debate, "Tre")
    flag_by([people["carlo"]], "comment", decided.id)
    services.decide(case_of("comment", decided.id), people["mod"], "restore")
    db.session.commit()
    cases, total = services.queue()
    assert [c.target_id for c in cases] == [twice.id, once.id] and total == 2
    assert services.pending_counts() == {"comment": 2}
    assert services.pending_total() == 2
    assert services.oldest_pending().target_id == once.id
    decided_cases, _ = services.queue(status="decided")
    assert [c.target_id for c in decided_cases] == [decided.id]
    assert services.queue(target_type="debate")[1] == 0
    assert services.queue(reason="offensive")[1] == 2 and services.queue(reason="spam")[1] == 0


def test_median_time_to_decision(people):
    debate = debate_by(people["anna"])
    start = utcnow() - timedelta(hours=10)
    for hours in (1, 3, 8):
        comment = comment_by(people["author"], debate, f"Commento {hours}")
        services.flag(people["anna"], "comment", comment.id, "spam", now=start)
        services.decide(case_of("comment", comment.id), people["mod"], "restore",
                        now=start + timedelta(hours=hours))
    db.session.commit()
    assert services.median_decision_hours() == 3.0


def test_transparency_counts_per_month(people, hidden_decision):
    services.appeal(hidden_decision, people["author"], "Era una citazione, non un insulto.")
    db.session.commit()
    months = services.transparency()
    assert len(months) == 1
    month = months[0]
    assert month["flags"] == 3 and month["auto_hidden"] == 1 and month["decisions"]["hide"] == 1
    assert month["appeals"] == 1 and month["appeals_decided"] == {"upheld": 0, "overturned": 0}


def test_digest_goes_to_moderators_only_when_something_waits(people, flagged):
    assert services.send_digests() == 2
    db.session.commit()
    mails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "moderation.digest")).all()
    assert sorted(m.to_address for m in mails) == sorted([people["mod"].email, people["mod2"].email])
    assert "/moderation" in mails[0].body_text
    services.decide(case_of("comment", flagged.id), people["mod"], "restore")
    db.session.commit()
    assert services.send_digests() == 0


def test_case_rows_are_unique_per_item(people, flagged):
    assert db.session.scalar(select(func.count()).select_from(ModerationCase)) == 1


def test_a_redacted_comment_leaves_no_copy_in_notifications(people):
    """Notifications name a comment by what it comments on, never by its text."""
    debate = debate_by(people["anna"], title="Orti in via Baltea")
    comment = comment_by(people["author"], debate, "Chiamate Marta al 347 7654321 per gli orti.")
    flag_by([people["anna"], people["bea"], people["carlo"]], "comment", comment.id, "personal_data")
    services.decide(case_of("comment", comment.id), people["mod"], "redact", rule="privacy",
                    reason="Numero di telefono di una persona privata.",
                    redactions={"body": "Chiamate Marta [numero rimosso] per gli orti."})
    db.session.commit()
    params = db.session.scalars(select(Notification.params).where(Notification.user_id == people["author"].id)).all()
    assert params and all("7654321" not in str(p) for p in params)
    assert {p.get("title") for p in params if p.get("kind")} == {"Orti in via Baltea"}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "moderation.redact"))
    assert "7654321" in event.details["original"]["body"]


def test_a_redacted_title_is_renamed_in_earlier_notifications(people):
    debate = debate_by(people["author"], title="Il vicino Paolo Bianchi parcheggia male")
    flag_by([people["anna"], people["bea"], people["carlo"]], "debate", debate.id, "personal_data")
    notes_before = db.session.scalars(select(Notification.params).where(Notification.user_id == people["author"].id))
    assert any("Paolo Bianchi" in str(p) for p in notes_before)
    services.decide(case_of("debate", debate.id), people["mod"], "redact", rule="privacy", reason="Nome di un privato.",
                    redactions={"title": "Il vicino parcheggia male"})
    db.session.commit()
    params = db.session.scalars(select(Notification.params).where(Notification.user_id == people["author"].id)).all()
    assert all("Paolo Bianchi" not in str(p) for p in params)


def test_an_upheld_appeal_is_final_and_settles_the_case(people, hidden_decision):
    appeal = services.appeal(hidden_decision, people["author"], "Era una citazione, non un insulto.")
    db.session.commit()
    outcome = services.decide_appeal(appeal, people["mod2"], "upheld", "Il tono resta offensivo.")
    db.session.commit()
    assert not services.can_appeal(outcome, people["author"])
    with pytest.raises(IllegalTransition):
        services.appeal(outcome, people["author"], "Allora faccio ricorso di nuovo.")
    # Nobody decides again, least of all the first moderator, until new flags arrive.
    with pytest.raises(IllegalTransition):
        services.decide(case_of("comment", hidden_decision.case.target_id), people["mod"], "restore")


def test_whoever_decided_on_the_case_cannot_decide_its_appeal(people, make_user):
    third_id = make_user(roles=(Role.citizen, Role.moderator)).id  # built first: make_user has its own connection
    comment = comment_by(people["author"], debate_by(people["anna"]))
    flag_by([people["anna"]], "comment", comment.id)
    services.decide(case_of("comment", comment.id), people["mod2"], "restore")
    flag_by([people["bea"]], "comment", comment.id)
    decision = services.decide(case_of("comment", comment.id), people["mod"], "hide", rule="respect",
                               reason="Offensivo.")
    appeal = services.appeal(decision, people["author"], "Non era offensivo, rileggete.")
    db.session.commit()
    with pytest.raises(PermissionDenied):  # mod2 restored this item before: not a fresh pair of eyes
        services.decide_appeal(appeal, people["mod2"], "overturned", "Ok")
    services.decide_appeal(appeal, db.session.get(User, third_id), "overturned", "Non era offensivo.")


def test_a_blocked_authors_content_is_not_restored_by_an_appeal(people, hidden_decision):
    appeal = services.appeal(hidden_decision, people["author"], "Era una citazione, non un insulto.")
    db.session.commit()
    services.block_user(people["author"], people["mod2"], rule="spam", reason="Spam in tutte le discussioni.")
    db.session.commit()
    third_party = people["carlo"]
    third_party.role_rows.append(__import__("app.models", fromlist=["UserRole"]).UserRole(role=Role.moderator))
    db.session.commit()
    with pytest.raises(IllegalTransition):
        services.decide_appeal(appeal, third_party, "overturned", "Va bene.")
    assert db.session.get(Comment, hidden_decision.case.target_id).hidden_at is not None


def test_hidden_and_held_items_cannot_be_flagged(people, flagged):
    with pytest.raises(NotFound):
        services.flag(people["dario"], "comment", flagged.id, "spam")
    services.add_word(people["mod"], "truffa")
    debate = debate_by(people["author"], body="Una truffa?")
    services.screen("debate", debate, people["author"])
    db.session.commit()
    with pytest.raises(NotFound):
        services.flag(people["anna"], "debate", debate.id, "spam")


def test_renaming_after_a_redaction_touches_only_that_items_notifications(people):
    mine = debate_by(people["author"], title="Il vicino Paolo Bianchi")
    other = debate_by(people["anna"], title="Il vicino Paolo Bianchi")
    note = Notification(user_id=people["bea"].id, kind="comment.new", params={"title": "Il vicino Paolo Bianchi"},
                        url=f"/debates/{other.id}")
    db.session.add(note)
    flag_by([people["anna"]], "debate", mine.id, "personal_data")
    services.decide(case_of("debate", mine.id), people["mod"], "redact", rule="privacy", reason="Nome.",
                    redactions={"title": "Il vicino"})
    db.session.commit()
    assert db.session.get(Notification, note.id).params["title"] == "Il vicino Paolo Bianchi"

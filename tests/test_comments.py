"""Comment rules: what can be commented, the two-level thread, the edit window, deletion, the debate
counter, flags, mentions and who is told about a new comment."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.comments import services
from app.extensions import db
from app.models import Notification, User
from app.models.base import DomainError, NotFound, PermissionDenied, utcnow
from app.models.discussion import Comment, Debate
from app.models.messaging import Follow
from app.models.report import Flag
from tests.test_proposals import build_process, new_proposal

MINUTE = timedelta(minutes=1)


@pytest.fixture
def people(app_ctx, make_user):
    """Everybody this module needs. make_user writes from its own connection: all are built first."""
    names = {"anna": "Anna Rossi", "bea": "Bea Verdi", "carlo": "Carlo Neri", "dora": "Dora Blu",
             "other_carlo": "carlo neri", "follower": "Franco Gialli", "eve": "<b>Eve</b>"}
    built = {key: make_user(display_name=name) for key, name in names.items()}
    built["unconfirmed"] = make_user(confirmed=False, display_name="Ugo Nuovo")
    return {key: db.session.get(User, u.id) for key, u in built.items()}


def make_debate(author, title="Più panchine in piazza?", hidden=False):
    debate = Debate(author_id=author.id, title=title, body="Parliamone.", hidden_at=utcnow() if hidden else None)
    db.session.add(debate)
    db.session.commit()
    return debate


def post(user, debate, body="Sono d'accordo.", parent=None, now=None):
    comment = services.post_comment(user, "debate", debate.id, body, parent_id=parent.id if parent else None,
                                    now=now)
    db.session.commit()
    return comment


def notes(user, kind=None):
    query = select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return db.session.scalars(query.order_by(Notification.id)).all()


# --- what can be commented ------------------------------------------------------------------

def test_a_citizen_comments_on_a_debate_and_the_counter_follows(people):
    debate = make_debate(people["anna"])
    comment = post(people["bea"], debate)
    assert (comment.target_type, comment.target_id, comment.parent_id) == ("debate", debate.id, None)
    assert comment.author_id == people["bea"].id
    assert db.session.get(Debate, debate.id).comment_count == 1


def test_comments_on_hidden_draft_or_unknown_items_are_refused(people):
    hidden = make_debate(people["anna"], hidden=True)
    process = build_process()
    draft = new_proposal(process, people["anna"], publish=False)
    for target_type, target_id in (("debate", hidden.id), ("proposal", draft.id), ("debate", 999_999),
                                   ("pact", 1), ("nothing", 1)):
        with pytest.raises(NotFound):
            services.post_comment(people["bea"], target_type, target_id, "Ciao")
    assert db.session.scalar(select(func.count(Comment.id))) == 0


def test_a_public_proposal_can_be_commented_and_its_author_is_told(people):
    proposal = new_proposal(build_process(), people["anna"], publish=False)
    proposal.status = "published"
    db.session.commit()
    services.post_comment(people["bea"], "proposal", proposal.id, "Bella idea")
    db.session.commit()
    assert [n.url for n in notes(people["anna"], "comment.new")] == [
        f"/proposals/{proposal.id}#comment-{db.session.scalar(select(Comment.id))}"]


def test_only_confirmed_citizens_comment(people):
    debate = make_debate(people["anna"])
    for user in (people["unconfirmed"], None):
        with pytest.raises(PermissionDenied):
            services.post_comment(user, "debate", debate.id, "Ciao")


@pytest.mark.parametrize("body", ["", "   \n ", "x" * 5001])
def test_a_comment_has_between_1_and_5000_characters(people, body):
    debate = make_debate(people["anna"])
    with pytest.raises(DomainError) as caught:
        services.post_comment(people["bea"], "debate", debate.id, body)
    assert caught.value.details["field"] == "body"


def test_a_comment_of_exactly_5000_characters_is_accepted(people):
    debate = make_debate(people["anna"])
    assert len(post(people["bea"], debate, "x" * 5000).body) == 5000


# --- two levels -----------------------------------------------------------------------------

def test_a_reply_to_a_reply_joins_its_top_level_comment(people):
    debate = make_debate(people["anna"])
    top = post(people["bea"], debate, "Primo")
    reply = post(people["carlo"], debate, "Risposta", parent=top)
    deeper = post(people["dora"], debate, "@Carlo Neri risposta alla risposta", parent=reply)
    assert reply.parent_id == top.id and deeper.parent_id == top.id
    top_level, replies = services.thread("debate", debate.id)
    assert [c.id for c in top_level] == [top.id]
    assert [c.id for c in replies[top.id]] == [reply.id, deeper.id]


def test_a_reply_must_answer_a_comment_of_the_same_item(people):
    debate, elsewhere = make_debate(people["anna"]), make_debate(people["anna"], title="Altro")
    foreign = post(people["bea"], elsewhere)
    with pytest.raises(DomainError):
        services.post_comment(people["carlo"], "debate", debate.id, "Ciao", parent_id=foreign.id)
    with pytest.raises(DomainError):
        services.post_comment(people["carlo"], "debate", debate.id, "Ciao", parent_id=987_654)


def test_a_deleted_comment_cannot_be_answered(people):
    debate = make_debate(people["anna"])
    top = post(people["bea"], debate)
    services.delete_comment(top, people["bea"])
    db.session.commit()
    with pytest.raises(DomainError):
        services.post_comment(people["carlo"], "debate", debate.id, "Ciao", parent_id=top.id)


# --- edit window and deletion ---------------------------------------------------------------

def test_the_author_edits_within_the_window_and_it_shows_edited(people):
    debate = make_debate(people["anna"])
    t0 = utcnow() - 60 * MINUTE
    comment = post(people["bea"], debate, "Prima versione", now=t0)
    services.edit_comment(comment, people["bea"], "Seconda versione", now=t0 + 14 * MINUTE)
    db.session.commit()
    stored = db.session.get(Comment, comment.id)
    assert stored.body == "Seconda versione" and stored.edited_at == t0 + 14 * MINUTE


def test_editing_after_the_window_is_refused(people):
    debate = make_debate(people["anna"])
    t0 = utcnow() - 60 * MINUTE
    comment = post(people["bea"], debate, "Prima versione", now=t0)
    with pytest.raises(DomainError):
        services.edit_comment(comment, people["bea"], "Troppo tardi", now=t0 + 16 * MINUTE)
    assert not services.can_edit(comment, people["bea"], now=t0 + 16 * MINUTE)
    assert services.can_edit(comment, people["bea"], now=t0 + 15 * MINUTE)


def test_the_edit_window_comes_from_the_configuration(app, people, monkeypatch):
    monkeypatch.setitem(app.config, "COMMENT_EDIT_MINUTES", 5)
    debate = make_debate(people["anna"])
    t0 = utcnow()
    comment = post(people["bea"], debate, now=t0)
    assert services.can_edit(comment, people["bea"], now=t0 + 5 * MINUTE)
    assert not services.can_edit(comment, people["bea"], now=t0 + 6 * MINUTE)


def test_only_the_author_edits_or_deletes(people):
    debate = make_debate(people["anna"])
    comment = post(people["bea"], debate, "Mio")
    with pytest.raises(PermissionDenied):
        services.edit_comment(comment, people["carlo"], "Suo")
    with pytest.raises(PermissionDenied):
        services.delete_comment(comment, people["anna"])  # not even the debate's author
    assert db.session.get(Comment, comment.id).body == "Mio"


def test_deleting_removes_the_text_but_keeps_the_thread(people):
    debate = make_debate(people["anna"])
    top = post(people["bea"], debate, "Testo da togliere")
    reply = post(people["carlo"], debate, "Risposta", parent=top)
    services.delete_comment(top, people["bea"])
    db.session.commit()
    stored = db.session.get(Comment, top.id)
    assert stored.deleted_at is not None and stored.body == ""
    assert db.session.get(Comment, reply.id).parent_id == top.id
    assert db.session.get(Debate, debate.id).comment_count == 1
    with pytest.raises(DomainError):
        services.delete_comment(stored, people["bea"])
    with pytest.raises(DomainError):
        services.edit_comment(stored, people["bea"], "Ripensamento")


def test_the_counter_counts_only_visible_comments(people):
    debate = make_debate(people["anna"])
    first, second = post(people["bea"], debate), post(people["carlo"], debate)
    post(people["dora"], debate, parent=first)
    assert db.session.get(Debate, debate.id).comment_count == 3
    second.hidden_at = utcnow()  # as moderation will do, then recount
    services.recount("debate", debate.id)
    db.session.commit()
    assert db.session.get(Debate, debate.id).comment_count == 2
    assert services.visible_count("debate", debate.id) == 2


# --- flags ----------------------------------------------------------------------------------

def test_a_comment_is_flagged_once_per_person(people):
    debate = make_debate(people["anna"])
    comment = post(people["bea"], debate)
    services.flag_comment(comment, people["carlo"], "spam")
    services.flag_comment(comment, people["carlo"], "offensive")
    services.flag_comment(comment, people["dora"], "other", "Insulta")
    db.session.commit()
    flags = db.session.scalars(select(Flag).where(Flag.target_type == "comment").order_by(Flag.id)).all()
    assert [(f.user_id, f.reason) for f in flags] == [(people["carlo"].id, "offensive"), (people["dora"].id, "other")]


def test_own_or_deleted_comments_cannot_be_flagged(people):
    debate = make_debate(people["anna"])
    comment = post(people["bea"], debate)
    with pytest.raises(DomainError):
        services.flag_comment(comment, people["bea"], "spam")
    services.delete_comment(comment, people["bea"])
    with pytest.raises(DomainError):
        services.flag_comment(comment, people["carlo"], "spam")
    assert db.session.scalar(select(func.count(Flag.id))) == 0


# --- mentions and notifications -------------------------------------------------------------

def test_mentions_tell_each_participant_once_and_ignore_strangers(people):
    debate = make_debate(people["anna"])
    post(people["bea"], debate)
    post(people["carlo"], debate, "@bea verdi e @Bea Verdi, anche @Anna Rossi. Non @Dora Blu, né mail@Bea Verdi")
    assert len(notes(people["bea"])) == 1 and notes(people["bea"], "comment.mention")
    # The debate's author is mentioned: told once, as a mention, not also as "new comment".
    assert [n.kind for n in notes(people["anna"])] == ["comment.new", "comment.mention"]
    assert notes(people["dora"]) == []  # not taking part in the thread
    assert notes(people["carlo"]) == []  # never the commenter


def test_a_display_name_shared_by_two_participants_tells_both(people):
    debate = make_debate(people["anna"])
    post(people["carlo"], debate)
    post(people["other_carlo"], debate)
    post(people["bea"], debate, "Cosa ne pensa @CARLO NERI?")
    assert len(notes(people["carlo"], "comment.mention")) == 1
    assert len(notes(people["other_carlo"], "comment.mention")) == 1


def test_new_comments_tell_the_author_and_followers_never_the_commenter(people):
    debate = make_debate(people["anna"])
    for key in ("follower", "anna"):
        db.session.add(Follow(user_id=people[key].id, target_type="debate", target_id=debate.id))
    db.session.commit()
    comment = post(people["anna"], debate, "Aggiungo un dettaglio")
    assert notes(people["anna"]) == []
    told = notes(people["follower"], "comment.new")
    assert len(told) == 1 and told[0].url == f"/debates/{debate.id}#comment-{comment.id}"
    assert told[0].params == {"name": "Anna Rossi", "title": "Più panchine in piazza?"}
    post(people["bea"], debate)
    assert len(notes(people["anna"], "comment.new")) == 1  # following and author: still once
    assert len(notes(people["follower"], "comment.new")) == 2


def test_the_person_answered_is_told_of_the_reply(people):
    debate = make_debate(people["anna"])
    top = post(people["bea"], debate)
    post(people["carlo"], debate, "Non sono d'accordo", parent=top)
    assert len(notes(people["bea"], "comment.reply")) == 1
    assert notes(people["bea"], "comment.new") == []


def test_editing_tells_only_the_newly_mentioned(people):
    debate = make_debate(people["anna"])
    post(people["bea"], debate)
    post(people["dora"], debate)
    comment = post(people["carlo"], debate, "Ciao @Bea Verdi")
    services.edit_comment(comment, people["carlo"], "Ciao @Bea Verdi e @Dora Blu")
    db.session.commit()
    assert len(notes(people["bea"], "comment.mention")) == 1
    assert len(notes(people["dora"], "comment.mention")) == 1


def test_mentions_are_highlighted_as_text_never_as_markup(people):
    names = ["Bea Verdi", "<b>Eve</b>"]
    html = services.highlight_mentions('<p>Ciao @bea verdi e @&lt;b&gt;Eve&lt;/b&gt; <a href="/x/@Bea Verdi">'
                                       '@Bea Verdi</a></p>', names)
    assert '<mark class="mention">@bea verdi</mark>' in html
    assert '<mark class="mention">@&lt;b&gt;Eve&lt;/b&gt;</mark>' in html
    assert 'href="/x/@Bea Verdi"' in html  # attributes are never touched
    assert '<a href="/x/@Bea Verdi"><mark class="mention">@Bea Verdi</mark></a>' in html
    assert "<b>" not in html

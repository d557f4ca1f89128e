"""Demo moderation: flags waiting in the queue, decisions with their reasons, an appeal, a held item.

Goes through the moderation services (so cases, audit events and notifications are what real use
makes), with dates in the past. Runs once: if any case exists, nothing is added.
"""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.discussion import Comment, Debate
from app.models.moderation import ModerationCase
from app.models.report import Report
from app.models.user import User
from app.moderation import services

#: Words that hold a contribution for review in the demo.
WORDS = ("casinò online", "viagra", "guadagna subito")


def _user(email):
    return db.session.scalar(select(User).where(User.email == email))


def _comment(author, debate, body, when):
    comment = Comment(target_type="debate", target_id=debate.id, author_id=author.id, body=body, created_at=when)
    db.session.add(comment)
    db.session.flush()
    return comment


def seed_moderation():
    """About ten cases in every state. Returns how many cases were opened."""
    if db.session.scalar(select(ModerationCase.id).limit(1)) is not None:
        return 0
    moderator, second = _user("moderator@example.org"), _user("moderator2@example.org")
    citizens = db.session.scalars(select(User).where(User.email.like("citizen%@example.org"))
                                  .order_by(User.id).limit(40)).all()
    debates = db.session.scalars(select(Debate).where(Debate.hidden_at.is_(None)).order_by(Debate.id).limit(4)).all()
    if moderator is None or second is None or len(citizens) < 20 or len(debates) < 4:
        return 0
    now = utcnow()
    for word in WORDS:
        services.add_word(moderator, word)
    author, troll, spammer = citizens[5], citizens[17], citizens[23]
    flaggers = citizens[30:40]

    def flags(target_type, target_id, people, reason, when, text=None):
        for n, person in enumerate(people):
            services.flag(person, target_type, target_id, reason, text, now=when + timedelta(minutes=7 * n))

    # 1. Three flags hid an insulting comment two hours ago: it waits at the top of the queue.
    rude = _comment(troll, debates[0], "Chi la pensa così è un idiota, tornate a casa vostra.",
                    now - timedelta(hours=5))
    flags("comment", rude.id, flaggers[:3], "offensive", now - timedelta(hours=2))
    # 2. One flag on a report that names a private person: still visible, pending.
    report = db.session.scalar(select(Report).where(Report.hidden_at.is_(None)).order_by(Report.id.desc()).limit(1))
    if report is not None and report.reporter_id not in {flaggers[3].id, None}:
        flags("report", report.id, [flaggers[3]], "personal_data", now - timedelta(hours=20),
              "Nella descrizione c'è il nome e il cognome del vicino.")
    # 3. Two flags on an off-topic comment (below the threshold: still shown).
    off = _comment(citizens[8], debates[1], "Qualcuno sa se domenica il Toro gioca in casa?", now - timedelta(days=1))
    flags("comment", off.id, flaggers[4:6], "off_topic", now - timedelta(hours=9))
    # 4. A comment hidden by a moderator last week, with an appeal waiting for a different moderator.
    hidden = _comment(author, debates[2], "L'assessore è un incapace e andrebbe cacciato a calci.",
                      now - timedelta(days=8))
    flags("comment", hidden.id, flaggers[:2], "offensive", now - timedelta(days=7, hours=3))
    case = services.case_for("comment", hidden.id)
    decision = services.decide(case, moderator, "hide", rule="respect",
                               reason="Insulto personale a un amministratore: la critica è benvenuta, "
                                      "gli insulti no.", now=now - timedelta(days=6, hours=20))
    services.appeal(decision, author, "Era uno sfogo, non un insulto: ho criticato il suo lavoro, non la persona.",
                    now=now - timedelta(days=5))
    # 5. Spam: the moderator blocked the account; everything it wrote is hidden.
    spam = _comment(spammer, debates[3], "Guadagna 500 euro al giorno da casa! Scrivimi.", now - timedelta(days=12))
    flags("comment", spam.id, flaggers[6:9], "spam", now - timedelta(days=12) + timedelta(hours=1))
    services.decide(services.case_for("comment", spam.id), moderator, "block", rule="spam",
                    reason="Account creato per pubblicità: messaggi identici in più discussioni.",
                    now=now - timedelta(days=11, hours=22))
    # 6. A redaction: a phone number edited out of a comment; the author did not appeal.
    phone = _comment(citizens[11], debates[1], "Per organizzarci chiamate Marta al 347 1234567.",
                     now - timedelta(days=20))
    flags("comment", phone.id, flaggers[9:10], "personal_data", now - timedelta(days=19, hours=22))
    services.decide(services.case_for("comment", phone.id), second, "redact", rule="privacy",
                    reason="Numero di telefono di una persona privata.",
                    redactions={"body": "Per organizzarci chiamate Marta [numero rimosso dalla moderazione]."},
                    now=now - timedelta(days=19, hours=16))
    # 7. Flags that were wrong: the moderator restored the comment and the appeal window never opened.
    fine = _comment(citizens[12], debates[0], "Secondo me la Ztl pomeridiana aiuterebbe i bambini ad andare a "
                                             "scuola a piedi.", now - timedelta(days=30))
    flags("comment", fine.id, flaggers[:3], "off_topic", now - timedelta(days=29, hours=20))
    services.decide(services.case_for("comment", fine.id), second, "restore", now=now - timedelta(days=29, hours=12))
    # 8. A comment held by the word list, waiting for approval.
    held = _comment(citizens[14], debates[2], "Con il casinò online si vince sempre, provate!", now - timedelta(hours=1))
    services.screen("comment", held, citizens[14], now=now - timedelta(hours=1))
    for debate in debates:
        from app.comments.services import recount

        recount("debate", debate.id)
    db.session.flush()
    return db.session.scalar(select(db.func.count()).select_from(ModerationCase))

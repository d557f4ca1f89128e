"""Queue emails in the outbox (same transaction as their cause) and deliver them later."""
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.messaging import OutboxEmail


def queue_email(to_address, template, *, kind, user=None, locale=None, **context):
    """Render ``email/<template>.txt`` in the recipient's language and add it to the outbox.

    The template's first line is ``Subject: ...``; the rest is the body.
    """
    locale = locale or (user.locale if user is not None else None) or "it"
    with force_locale(locale):
        rendered = render_template(f"email/{template}.txt", user=user, base_url=current_app.config["BASE_URL"],
                                   **context)
    first, _, body = rendered.lstrip().partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"email template {template} must start with a Subject: line")
    email = OutboxEmail(
        to_address=to_address,
        subject=first[len("Subject:"):].strip(),
        body_text=body.strip() + "\n",
        kind=kind,
        user_id=user.id if user is not None else None,
    )
    db.session.add(email)
    return email


def _message(row):
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = row.to_address
    msg["Subject"] = row.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(idstring=f"piazza-{row.id}")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(row.body_text)
    return msg


class FileBackend:
    """Development: each email becomes an .eml file in MAIL_FILE_DIR."""

    def __init__(self, directory):
        self.directory = Path(directory)

    def __enter__(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc):
        return False

    def send(self, row, message):
        path = self.directory / f"{row.id:08d}-{row.kind}.eml"
        path.write_bytes(bytes(message))


class SMTPBackend:
    def __init__(self, cfg):
        self.cfg = cfg
        self.conn = None

    def __enter__(self):
        cfg = self.cfg
        context = ssl.create_default_context()
        if cfg["MAIL_USE_SSL"]:
            self.conn = smtplib.SMTP_SSL(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], context=context, timeout=30)
        else:
            self.conn = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=30)
            if cfg["MAIL_USE_TLS"]:
                self.conn.starttls(context=context)
        if cfg["MAIL_USERNAME"]:
            self.conn.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        return self

    def __exit__(self, *exc):
        try:
            self.conn.quit()
        except smtplib.SMTPException:
            pass
        return False

    def send(self, row, message):
        self.conn.send_message(message)


def backend():
    cfg = current_app.config
    if cfg["MAIL_SERVER"]:
        return SMTPBackend(cfg)
    return FileBackend(cfg["MAIL_FILE_DIR"])


MAX_ATTEMPTS = 5


def send_pending(limit=500):
    """Deliver unsent emails, committing after each so a failure loses nothing. Returns (sent, failed)."""
    rows = db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < MAX_ATTEMPTS)
        .order_by(OutboxEmail.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    if not rows:
        return sent, failed
    with backend() as transport:
        for row in rows:
            row.attempts += 1
            try:
                transport.send(row, _message(row))
            except (OSError, smtplib.SMTPException) as exc:
                row.last_error = str(exc)[:1000]
                failed += 1
            else:
                row.sent_at = utcnow()
                row.last_error = None
                sent += 1
            db.session.commit()
    return sent, failed

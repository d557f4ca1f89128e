"""`flask moderation digest`: e-mail the moderators when something waits (run it daily, e.g. from cron)."""
import click
from flask.cli import AppGroup

from app.extensions import db
from app.moderation.services import send_digests

moderation_cli = AppGroup("moderation", help="Moderation tools.")


@moderation_cli.command("digest")
def digest_command():
    """Queue one e-mail per moderator summarising what waits in the queue (nothing when it is empty)."""
    sent = send_digests()
    db.session.commit()
    click.echo(f"Moderation digest queued for {sent} moderator(s).")

"""`flask notifications send-digests`."""
import click
from flask.cli import AppGroup

from app.extensions import db
from app.notifications.services import build_digests

notifications_cli = AppGroup("notifications", help="Notification emails.")


@notifications_cli.command("send-digests")
def send_digests_command():
    """Queue the daily digest emails (run once a day, then `flask mail send-pending`)."""
    count = build_digests()
    db.session.commit()
    click.echo(f"Queued {count} digest email(s).")

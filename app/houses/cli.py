"""`flask events remind`: queue reminders for events starting in the next 24 hours."""
import click
from flask.cli import AppGroup

from app.extensions import db
from app.houses import services

events_cli = AppGroup("events", help="Events housekeeping.")


@events_cli.command("remind")
def remind_command():
    """Queue one reminder per registration for events starting within 24 hours."""
    count = services.remind()
    db.session.commit()
    click.echo(f"Queued {count} reminder(s).")

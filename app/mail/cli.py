"""`flask mail send-pending`."""
import click
from flask import current_app
from flask.cli import AppGroup

from app.mail.services import send_pending

mail_cli = AppGroup("mail", help="Outgoing email.")


@mail_cli.command("send-pending")
@click.option("--limit", default=500, show_default=True, help="At most this many emails per run.")
def send_pending_command(limit):
    """Send queued emails (SMTP if MAIL_SERVER is set, else .eml files in MAIL_FILE_DIR)."""
    sent, failed = send_pending(limit=limit)
    where = current_app.config["MAIL_SERVER"] or current_app.config["MAIL_FILE_DIR"]
    click.echo(f"Sent {sent} email(s) to {where}; {failed} failed.")
    if failed:
        raise SystemExit(1)

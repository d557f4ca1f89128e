"""`flask reports ask-if-fixed`: the four-week "is it fixed?" question, run daily."""
import click
from flask.cli import AppGroup

from app.extensions import db
from app.reports.services import ask_if_fixed

reports_cli = AppGroup("reports", help="Reports housekeeping.")


@reports_cli.command("ask-if-fixed")
def ask_if_fixed_command():
    """Ask reporters whether reports resolved four weeks ago are really fixed."""
    asked = ask_if_fixed()
    db.session.commit()
    click.echo(f"Asked {asked} reporter(s) whether their report is fixed.")

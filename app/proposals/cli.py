"""`flask proposals catch-up`: record expiries and anonymise old supports without waiting for a visitor."""
import click
from flask.cli import AppGroup

from app.extensions import db
from app.proposals.queries import anonymise_on_read, expire_on_read

proposals_cli = AppGroup("proposals", help="Proposals housekeeping.")


@proposals_cli.command("catch-up")
def catch_up_command():
    """Expire proposals whose support window closed; anonymise supports past their retention."""
    expired = expire_on_read()
    anonymised = anonymise_on_read()
    db.session.commit()
    click.echo(f"Expired {expired} proposal(s); anonymised {anonymised} support(s).")

"""`flask audit verify`."""
import click
from flask.cli import AppGroup

from app.audit.services import verify_chain

audit_cli = AppGroup("audit", help="Audit log tools.")


@audit_cli.command("verify")
def verify_command():
    """Check the audit hash chain; exit 1 at the first broken link."""
    result = verify_chain()
    if result.ok:
        click.echo(f"Audit chain intact: {result.checked} events verified.")
        return
    click.echo(f"Audit chain BROKEN at event {result.broken_seq}: {result.problem} "
               f"({result.checked} events verified before it).", err=True)
    raise SystemExit(1)

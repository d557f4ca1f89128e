"""`flask api-keys create|list|revoke`: thin shells over the Open311 key services."""
import click
from flask.cli import AppGroup

from app.auth.services import find_by_email
from app.extensions import db
from app.models.base import DomainError
from app.open311 import services

api_keys_cli = AppGroup("api-keys", help="Manage Open311 API keys.")


def _when(value):
    """A timestamp for the listing, to the minute in UTC, or a dash."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


@api_keys_cli.command("create")
@click.option("--name", required=True, help="Who the key is for (unique).")
@click.option("--owner", "owner_email",
              help="Email of the citizen account reports are attributed to (default: a new service account).")
def create_command(name, owner_email):
    """Issue a key; the key itself is printed once, as the last line."""
    owner = None
    if owner_email:
        owner = find_by_email(owner_email)
        if owner is None or owner.deleted_at is not None:
            raise click.ClickException(f"no account for {owner_email}")
    try:
        key, secret = services.create_api_key(name, owner)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    whose = key.owner.email or f"service account {key.owner.display_name!r}"
    click.echo(f"Created API key {key.name!r} (prefix {key.prefix}); reports will be attributed to {whose} "
               f"(user id {key.owner_id}). Store the key now: it cannot be shown again.")
    click.echo(secret)


@api_keys_cli.command("list")
def list_command():
    """Every key: name, prefix, owner, last use, revocation."""
    keys = services.api_keys()
    if not keys:
        click.echo("No API keys.")
        return
    for key in keys:
        owner = key.owner.email or f"service account #{key.owner_id}"
        revoked = f"revoked {_when(key.revoked_at)}" if key.revoked_at else "active"
        click.echo(f"{key.name}\t{key.prefix}…\t{owner}\tlast used {_when(key.last_used_at)}\t{revoked}")


@api_keys_cli.command("revoke")
@click.argument("name")
def revoke_command(name):
    """Revoke a key at once: requests with it are refused from now on."""
    try:
        key, changed = services.revoke_api_key(name)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Revoked API key {key.name!r}." if changed else f"API key {key.name!r} was already revoked.")

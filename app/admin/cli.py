"""`flask users create|grant|revoke|verify`: thin shells over the admin services."""
import secrets

import click
from flask.cli import AppGroup

from app.admin import services
from app.auth.services import find_by_email
from app.extensions import db
from app.models.base import DomainError
from app.models.user import Role

users_cli = AppGroup("users", help="Manage accounts and roles.")
ROLE_CHOICE = click.Choice([r.value for r in Role])


def _user(email):
    user = find_by_email(email)
    if user is None or user.deleted_at is not None:
        raise click.ClickException(f"no account for {email}")
    return user


@users_cli.command("create")
@click.argument("email")
@click.option("--role", "roles", multiple=True, type=ROLE_CHOICE, help="Repeat for several roles (default citizen).")
@click.option("--verified", is_flag=True, help="Mark the citizen as verified.")
@click.option("--name", help="Display name (default: the part of the email before @).")
@click.option("--password", envvar="PIAZZA_NEW_PASSWORD",
              help="Password (or PIAZZA_NEW_PASSWORD); a random one is generated and printed if absent.")
def create_command(email, roles, verified, name, password):
    """Create a confirmed account with the given roles."""
    generated = password is None
    if generated:
        password = secrets.token_urlsafe(12)
    try:
        user = services.create_user(None, email, display_name=name, password=password,
                                    roles=[Role(r) for r in roles], verified=verified)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Created {user.email} (id {user.id}) with roles: {', '.join(sorted(r.value for r in user.roles))}"
               + (", verified" if user.is_verified else ""))
    if generated:
        click.echo(f"Password: {password}")


@users_cli.command("grant")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
@click.option("--reason", help="Kept in the audit log.")
def grant_command(email, role, reason):
    """Give a role to an account."""
    user = _user(email)
    changed = services.grant_role(None, user, role, reason)
    db.session.commit()
    click.echo(f"{user.email}: {'granted' if changed else 'already had'} {role}")


@users_cli.command("revoke")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
@click.option("--reason", help="Kept in the audit log.")
def revoke_command(email, role, reason):
    """Take a role away from an account."""
    user = _user(email)
    try:
        changed = services.revoke_role(None, user, role, reason)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{user.email}: {'revoked' if changed else 'did not have'} {role}")


@users_cli.command("verify")
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Remove the verification instead.")
@click.option("--reason", help="Kept in the audit log.")
def verify_command(email, revoke, reason):
    """Mark a citizen verified (or, with --revoke, not verified)."""
    user = _user(email)
    try:
        services.set_verified(None, user, not revoke, reason)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{user.email}: {'verified' if user.is_verified else 'not verified'}")

"""Bearer tokens of the JSON API: issuing, finding, revoking; and their section of the profile page.

A token is ``pzt_`` + 43 random characters, shown to its owner once; the database keeps
its SHA-256 only. The profile routes live on the ``account`` blueprint (under /account/,
with HTML errors and the profile's layout), but belong to this feature, so they are here.
"""
from datetime import timedelta

from flask import flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, select, update
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.account import bp as account_bp
from app.account.services import register_anonymiser, register_exporter
from app.auth.services import SESSION_ENDERS
from app.auth.access import login_required
from app.auth.forms import ButtonForm
from app.extensions import db
from app.models.api import PREFIX_LENGTH, ApiToken, new_secret, secret_hash
from app.models.base import DomainError, NotFound, utcnow

TOKEN_MARKER = "pzt_"
#: last_used_at is written at most this often per token, so using a token is not a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
#: Field names of the profile's token form start with this ("token-name").
FORM_PREFIX = "token"


# --- services -------------------------------------------------------------------------------

def issue_token(user, name=None):
    """Create a token for ``user``; returns (row, secret) — the secret exists only here."""
    name = " ".join((name or "").split()) or _("API token")
    if len(name) > 80:
        raise DomainError(_("The token name is too long (at most 80 characters)."), field="name")
    secret = new_secret(TOKEN_MARKER)
    token = ApiToken(user_id=user.id, name=name, token_hash=secret_hash(secret), prefix=secret[:PREFIX_LENGTH])
    db.session.add(token)
    db.session.flush()
    return token, secret


def usable_token(secret, now=None):
    """The unrevoked, unexpired token whose secret this is, or None."""
    if not secret:
        return None
    now = now or utcnow()
    # A lookup by hash: no constant-time comparison needed (see app.models.api).
    return db.session.scalar(select(ApiToken).where(
        ApiToken.token_hash == secret_hash(secret), ApiToken.revoked_at.is_(None), ApiToken.expires_at > now))


def user_for_bearer(request):
    """TOKEN_LOADER: the active user of the request's ``Authorization: Bearer`` token, or None.

    Records the use at most once a minute, and commits it at once: authentication is
    done whatever happens to the request afterwards, and the view's session starts clean.
    """
    scheme, _sep, secret = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    now = utcnow()
    token = usable_token(secret.strip(), now)
    if token is None or not token.user.is_active:
        return None
    g.api_token_user_id = token.user_id  # the rate limit's key (app.api.http): per account, not per token
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return token.user


def tokens_of(user):
    """The user's tokens that are not revoked, newest first (expired ones included, marked by the page)."""
    return db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                              .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()


def revoke_token(user, token_id):
    """Revoke one of the user's own tokens; NotFound for anyone else's (no telling which exist)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound(_("There is no such token."))
    token.revoked_at = utcnow()
    return token


def _iso(value):
    """ISO 8601 text of a timestamp, or None."""
    return value.isoformat() if value is not None else None


def export_tokens(user):
    """The user's tokens for the data download (never their hashes)."""
    rows = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    return [{"name": t.name, "prefix": t.prefix, "created_at": _iso(t.created_at),
             "last_used_at": _iso(t.last_used_at), "expires_at": _iso(t.expires_at),
             "revoked_at": _iso(t.revoked_at)} for t in rows]


def erase_tokens(user):
    """On account deletion the tokens go: they name the user's devices and programs."""
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


def revoke_all_tokens(user):
    """A password change, reset or "sign out everywhere" also ends the user's API tokens."""
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=utcnow()))


SESSION_ENDERS.append(revoke_all_tokens)
register_exporter("api_tokens", export_tokens)
register_anonymiser(erase_tokens)


# --- the profile page's section -------------------------------------------------------------

class TokenForm(FlaskForm):
    """The profile page's "create a token" form (prefixed: the page holds other forms)."""

    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=80)],
                       description=_l("So you can tell your tokens apart, e.g. “my phone” or “neighbourhood bot”."))


@account_bp.context_processor
def token_section_context():
    """What account/_tokens.html needs, as functions so that only pages including it query."""
    return {"api_tokens_of": tokens_of, "api_token_form": lambda: TokenForm(formdata=None, prefix=FORM_PREFIX)}


@account_bp.route("/tokens", methods=["POST"])
@login_required
def create_api_token():
    """Create a named token and show it once, in a message on the profile page."""
    form = TokenForm(prefix=FORM_PREFIX)
    if form.validate_on_submit():
        token, secret = issue_token(current_user, form.name.data)
        db.session.commit()
        # Shown once: only the hash is kept. The message travels in the session cookie
        # (signed, HttpOnly) to the next page and is removed from it when displayed.
        flash(_("Your new token “%(name)s” is %(token)s — copy it now: it will not be shown again.",
                name=token.name, token=secret), "success")
    else:
        for error in form.name.errors:
            flash(error, "error")
    return redirect(url_for("account.profile") + "#tokens-title")


@account_bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_api_token(token_id):
    """Revoke one of the user's tokens at once."""
    if ButtonForm().validate_on_submit():
        token = revoke_token(current_user, token_id)
        db.session.commit()
        flash(_("The token “%(name)s” is revoked.", name=token.name), "success")
    return redirect(url_for("account.profile") + "#tokens-title")

"""Flask extensions, created unbound and initialised in :func:`app.create_app`."""
from flask import has_request_context, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

#: Constraint names follow a convention so Alembic can name, find and drop them
#: the same way on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

SUPPORTED_LOCALES = ("it", "en")


def select_locale():
    """Italian first; English by ``?lang=en``, the saved choice, or Accept-Language."""
    if not has_request_context():  # CLI commands and background work
        return "it"
    requested = request.args.get("lang")
    if requested in SUPPORTED_LOCALES:
        return requested
    saved = session.get("lang")
    if saved in SUPPORTED_LOCALES:
        return saved
    return request.accept_languages.best_match(SUPPORTED_LOCALES, default="it")

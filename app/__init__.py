"""The application factory: a table of contents, no I/O."""
import logging
import sqlite3

from flask import Flask, has_request_context, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from config import config_from_env


def create_app(config=None):
    """Build the app from a config class (default: the one named by PIAZZA_ENV)."""
    app = Flask(__name__, instance_path=None)
    config = config or config_from_env()
    app.config.from_object(config)
    config.check(app.config)
    app.instance_path = app.config["INSTANCE_DIR"]
    if app.config.get("PROXY_FIX_X_FOR"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1, x_host=1)

    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    _register_cli(app)
    from app.errors import register_error_handlers

    register_error_handlers(app)
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    return app


def _sqlite_pragmas(dbapi_connection, _record):
    """WAL, a busy timeout and enforced foreign keys on every SQLite connection."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    from flask import current_app

    try:
        timeout_ms = int(current_app.config["SQLITE_BUSY_TIMEOUT"] * 1000)
    except RuntimeError:  # connection opened outside an app context
        timeout_ms = 15000
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
    cursor.execute("PRAGMA foreign_keys = ON")
    mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    if mode not in ("wal", "memory"):
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _init_extensions(app):
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate, select_locale

    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    from app.auth.loader import load_user, unauthorized

    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` in every URL: positive and within a 32-bit integer column (else 404, not a 500)."""

    #: What an out-of-range id becomes: no row has it, so the view answers its own 404.
    NO_ROW = 0

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value):
        # Refusing the value (ValidationError) would let Werkzeug go on to the same path's rules for
        # other methods and answer 405 ("use POST") for an id that simply does not exist.
        if len(value) > 10:  # longer than 2**31 - 1 (and int() of thousands of digits is refused)
            return self.NO_ROW
        number = int(value)
        if number < self.min or number > self.max:
            return self.NO_ROW
        return number


def _register_blueprints(app):
    app.url_map.converters["int"] = DatabaseIdConverter
    from app import (
        account,
        admin,
        api,
        assisted,
        assisted_admin,
        auth,
        comments,
        commons,
        debates,
        feeds,
        houses,
        kiosk,
        main,
        maps,
        media,
        moderation,
        notifications,
        open311,
        opendata,
        opportunities,
        pacts,
        proposals,
        reports,
        reviews,
        search,
        statistics,
        verification,
    )

    for module in (main, auth, account, notifications, admin, api, maps, media, open311, reports, proposals,
                   reviews, comments, debates, commons, pacts, opportunities, moderation,
                   houses, verification, assisted, assisted_admin, kiosk, opendata, feeds, statistics,
                   search):
        app.register_blueprint(module.bp)


def _register_hooks(app):
    from app.assisted.context import apply_assisted_session, audit_other_actions, banner_context
    from app.assisted.provenance import house_of as assisted_house
    from app.assisted.records import action_label as assisted_action_label
    from app.auth.access import enforce_access
    from app.auth.forms import ButtonForm
    from app.http import (
        enforce_session_timeouts,
        refuse_nul_characters,
        remember_language,
        restrict_vendor_files,
        security_headers,
        this_page_in,
    )
    from app.labels import (
        commons_kind_label,
        organisation_kind_label,
        phase_end_label,
        report_status_label,
        role_label,
        supports_text,
    )
    from app.markdown import render as render_markdown
    from app.moderation.registry import _register_all, kind_label
    from app.moderation.rules import action_label, rule_label
    from app.models.user import Role
    from app.notifications.services import unread_count

    # Globals (not context processors) so that imported macros see them too.
    app.jinja_env.globals.update(this_page_in=this_page_in, role_label=role_label, report_status_label=report_status_label,
                                 supports_text=supports_text, phase_end_label=phase_end_label,
                                 commons_kind_label=commons_kind_label,
                                 organisation_kind_label=organisation_kind_label,
                                 kind_label=kind_label, rule_label=rule_label, moderation_action_label=action_label,
                                 assisted_action_label=assisted_action_label, assisted_house=assisted_house)
    _register_all()
    app.jinja_env.filters["markdown"] = render_markdown
    app.before_request(refuse_nul_characters)
    app.before_request(restrict_vendor_files)
    app.before_request(remember_language)
    app.before_request(enforce_session_timeouts)
    app.before_request(apply_assisted_session)
    app.before_request(enforce_access)
    app.after_request(audit_other_actions)
    app.after_request(security_headers)

    app.context_processor(banner_context)

    @app.context_processor
    def layout_context():
        if not has_request_context():  # emails rendered from the CLI
            return {}
        unread = moderation_pending = 0
        if current_user.is_authenticated:
            unread = unread_count(current_user)
            if current_user.has_role(Role.moderator):
                from app.moderation.services import pending_total

                moderation_pending = pending_total()
        return {
            "current_locale": str(get_locale()),
            "high_contrast": session.get("contrast") == "high",
            "unread_notifications": unread,
            "moderation_pending": moderation_pending,
            "button_form": ButtonForm,
            "Role": Role,
        }


def _register_cli(app):
    from app.admin.cli import users_cli
    from app.api.cli import api_keys_cli
    from app.audit.cli import audit_cli
    from app.houses.cli import events_cli
    from app.mail.cli import mail_cli
    from app.moderation.cli import moderation_cli
    from app.notifications.cli import notifications_cli
    from app.opendata.cli import export_cli
    from app.proposals.cli import proposals_cli
    from app.reports.cli import reports_cli
    from app.search.cli import search_cli
    from app.seed.cli import seed_cli

    for group in (users_cli, audit_cli, mail_cli, notifications_cli, seed_cli, api_keys_cli, reports_cli,
                  proposals_cli, moderation_cli, events_cli, export_cli, search_cli):
        app.cli.add_command(group)

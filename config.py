"""Configuration classes. Everything that differs between machines comes from the environment."""
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_PATH = Path(os.environ.get("PIAZZA_INSTANCE", BASE_DIR / "instance"))


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url(default):
    url = os.environ.get("DATABASE_URL", default)
    # Heroku-style URLs and plain "postgresql://" both mean psycopg 3 here.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE_PATH / 'piazza.sqlite'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    #: Seconds an SQLite connection waits for the write lock before failing.
    SQLITE_BUSY_TIMEOUT = int(os.environ.get("SQLITE_BUSY_TIMEOUT", "15"))
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    INSTANCE_DIR = str(INSTANCE_PATH)

    # Sessions and cookies
    SESSION_COOKIE_NAME = "piazza_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_NAME = "piazza_remember"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_DURATION = timedelta(days=int(os.environ.get("REMEMBER_DAYS", "14")))
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    #: Write the session cookie only when the session changed. Otherwise every response re-sends it,
    #: and a background request (similar titles, map data) that ends after a page changed the
    #: session puts the old cookie back: a consumed message reappears, a sign-out is undone.
    SESSION_REFRESH_EACH_REQUEST = False
    #: A signed-in session ends after this long without a request...
    SESSION_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "60")))
    #: ...and after this long in any case (a "remember me" cookie starts a new one).
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12")))

    #: Key of the HMAC that stores a codice fiscale seen in person (app/verification); never the
    #: number itself. Changing it makes every stored hash unmatchable: keep it with the backups.
    IDENTITY_HMAC_KEY = os.environ.get("IDENTITY_HMAC_KEY", "")

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    #: How long authors may edit their comments, and how fast they may post them.
    COMMENT_EDIT_MINUTES = int(os.environ.get("COMMENT_EDIT_MINUTES", "15"))
    COMMENT_LIMIT = os.environ.get("COMMENT_LIMIT", "10 per minute;200 per day")
    #: The largest form: a pact proposal with three photos and three PDFs at their caps, plus its text.
    MAX_CONTENT_LENGTH = 48 * 1024 * 1024

    # Tokens sent by email
    EMAIL_CONFIRM_MAX_AGE = int(timedelta(days=3).total_seconds())
    PASSWORD_RESET_MAX_AGE = int(timedelta(hours=1).total_seconds())

    # Password hashing (argon2id); RFC 9106 "second recommended" profile by default.
    ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", "3"))
    ARGON2_MEMORY_COST = int(os.environ.get("ARGON2_MEMORY_COST", str(64 * 1024)))
    ARGON2_PARALLELISM = int(os.environ.get("ARGON2_PARALLELISM", "2"))
    PASSWORD_MIN_LENGTH = 10
    #: zxcvbn score (0-4) a new password must reach.
    PASSWORD_MIN_SCORE = 3

    # Rate limits (Flask-Limiter). Keyed by client address and, for logins, by account too.
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per minute;200 per hour")
    LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS = os.environ.get(
        "LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS", "5 per minute;30 per hour"
    )
    REGISTER_LIMIT = os.environ.get("REGISTER_LIMIT", "5 per hour;20 per day")
    EMAIL_LIMIT = os.environ.get("EMAIL_LIMIT", "5 per hour")
    #: Every JSON API request, per bearer token (valid tokens) or per address (no token): see app/api/http.py.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute;20000 per day")
    API_RATE_LIMIT_ANONYMOUS = os.environ.get("API_RATE_LIMIT_ANONYMOUS", "300 per minute;10000 per day")
    #: New content per account (reports, flags): generous for people, a wall for scripts.
    CONTENT_LIMIT = os.environ.get("CONTENT_LIMIT", "20 per hour;100 per day")
    FLAG_LIMIT = os.environ.get("FLAG_LIMIT", "30 per hour")
    #: Accounts younger than NEW_ACCOUNT_HOURS get the tighter limits below (per account).
    NEW_ACCOUNT_HOURS = int(os.environ.get("NEW_ACCOUNT_HOURS", "24"))
    NEW_ACCOUNT_CONTENT_LIMIT = os.environ.get("NEW_ACCOUNT_CONTENT_LIMIT", "5 per hour;20 per day")
    NEW_ACCOUNT_FLAG_LIMIT = os.environ.get("NEW_ACCOUNT_FLAG_LIMIT", "10 per hour")
    #: Per network address, whoever is signed in (a wall for one machine running many accounts).
    CONTENT_LIMIT_PER_ADDRESS = os.environ.get("CONTENT_LIMIT_PER_ADDRESS", "60 per hour;300 per day")
    FLAG_LIMIT_PER_ADDRESS = os.environ.get("FLAG_LIMIT_PER_ADDRESS", "100 per hour")

    # Moderation (app/moderation).
    #: Distinct flags (since the last decision) that hide an item pending review; 0 never hides.
    MODERATION_HIDE_THRESHOLD = int(os.environ.get("MODERATION_HIDE_THRESHOLD", "3"))
    #: Days the author has to appeal a decision.
    MODERATION_APPEAL_DAYS = int(os.environ.get("MODERATION_APPEAL_DAYS", "14"))
    #: Pre-moderation: hold the first N contributions of every account for approval (0: off).
    MODERATION_HOLD_FIRST = int(os.environ.get("MODERATION_HOLD_FIRST", "0"))
    #: Pre-moderation: hold contributions that contain a link.
    MODERATION_HOLD_LINKS = _bool("MODERATION_HOLD_LINKS", False)
    #: Where a blocked user writes to contest the block (they cannot sign in to appeal).
    MODERATION_CONTACT_EMAIL = os.environ.get("MODERATION_CONTACT_EMAIL", "moderazione@piazza.example.org")

    # Assisted sessions at the Case del Quartiere (ended by timestamp on every request, no job).
    ASSISTED_SESSION_MAX = timedelta(minutes=int(os.environ.get("ASSISTED_SESSION_MINUTES", "120")))
    ASSISTED_SESSION_IDLE = timedelta(minutes=int(os.environ.get("ASSISTED_IDLE_MINUTES", "15")))
    #: Records one session may create (reports, supports, comments...), and per facilitator per 24 h.
    ASSISTED_MAX_ACTIONS = int(os.environ.get("ASSISTED_MAX_ACTIONS", "40"))
    ASSISTED_SESSIONS_PER_DAY = int(os.environ.get("ASSISTED_SESSIONS_PER_DAY", "40"))
    ASSISTED_MANAGED_PER_DAY = int(os.environ.get("ASSISTED_MANAGED_PER_DAY", "15"))
    #: Accounts a facilitator may create from paper signature sheets in 24 h (one event can bring many).
    PAPER_ACCOUNTS_PER_DAY = int(os.environ.get("PAPER_ACCOUNTS_PER_DAY", "300"))
    #: Tries at finding a citizen by document or code, per facilitator (Flask-Limiter syntax).
    ASSIST_IDENTIFY_LIMIT = os.environ.get("ASSIST_IDENTIFY_LIMIT", "30 per hour")
    #: The admin report flags a facilitator with this many managed accounts, or supports for one
    #: proposal, in the last 30 days.
    ASSISTED_ALERT_MANAGED = int(os.environ.get("ASSISTED_ALERT_MANAGED", "20"))
    ASSISTED_ALERT_SUPPORTS = int(os.environ.get("ASSISTED_ALERT_SUPPORTS", "15"))
    #: A managed account's claim code is valid this long; a citizen's one-time code this many minutes.
    CLAIM_CODE_DAYS = int(os.environ.get("CLAIM_CODE_DAYS", "365"))
    #: The receipt shows the claim code to the facilitator who ran the session for this long after it.
    CLAIM_SHOW_HOURS = timedelta(hours=int(os.environ.get("CLAIM_SHOW_HOURS", "24")))
    ASSIST_CODE_MINUTES = int(os.environ.get("ASSIST_CODE_MINUTES", "10"))
    CLAIM_LIMIT = os.environ.get("CLAIM_LIMIT", "10 per hour")
    #: Kiosk mode (app/kiosk), the shared computer of a house: a signed-in session there ends after
    #: this many minutes without activity (decimals allowed), and the browser stays a kiosk this many days.
    KIOSK_IDLE_MINUTES = float(os.environ.get("KIOSK_IDLE_MINUTES", "5"))
    KIOSK_COOKIE_DAYS = int(os.environ.get("KIOSK_COOKIE_DAYS", "365"))

    # Mail: rows in the outbox; `flask mail send-pending` delivers them.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Piazza <no-reply@piazza.example.org>")
    #: Where `send-pending` writes .eml files when no MAIL_SERVER is set.
    MAIL_FILE_DIR = os.environ.get("MAIL_FILE_DIR", str(INSTANCE_PATH / "mail"))

    BABEL_DEFAULT_LOCALE = "it"
    BABEL_DEFAULT_TIMEZONE = "Europe/Rome"

    #: Extra hosts allowed by the Content Security Policy (map tiles, CDN), space-separated.
    CSP_IMG_SRC = os.environ.get("CSP_IMG_SRC", "https://tile.openstreetmap.org https://*.tile.openstreetmap.org")
    CSP_CDN_SRC = os.environ.get("CSP_CDN_SRC", "https://unpkg.com")
    HSTS = _bool("HSTS", False)

    # The map (app/maps). Leaflet comes from the unpkg CDN with SRI hashes, or with LEAFLET_LOCAL
    # from app/static/vendor (`make vendor`): for offline machines and the browser tests.
    LEAFLET_LOCAL = _bool("LEAFLET_LOCAL", False)
    #: Tile server URL template; its host must be in CSP_IMG_SRC.
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    #: Attribution shown on the map (HTML); the tiles' licence requires it, with a link to it.
    MAP_TILE_ATTRIBUTION = os.environ.get(
        "MAP_TILE_ATTRIBUTION",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
    )
    #: Where the map opens (lat, lon: Piazza Castello) and at which zoom.
    MAP_CENTER = (45.0703, 7.6869)
    MAP_ZOOM = 13
    #: Below this zoom, layers that can be clustered are sent as counts per grid cell.
    MAP_CLUSTER_BELOW_ZOOM = 15
    #: The most features one map request returns; the response says when it was truncated.
    MAP_MAX_FEATURES = 2000

    # Collaboration pacts (app/pacts), Turin's commons regulation.
    #: Days a public consultation lasts unless the office sets other dates.
    PACT_CONSULTATION_DAYS = int(os.environ.get("PACT_CONSULTATION_DAYS", "30"))
    #: Days each step may take before it shows as overdue, by status; overrides
    #: app.models.pact.DEFAULT_TIME_LIMITS, e.g. PACT_TIME_LIMITS="submitted=20,co_design=90".
    PACT_TIME_LIMITS = {k.strip(): int(v) for k, v in (
        item.split("=", 1) for item in os.environ.get("PACT_TIME_LIMITS", "").split(",") if "=" in item)}

    # Photo uploads (app/media): checked by content, re-encoded as JPEG without metadata.
    #: Directory of LocalStorage; created on the first saved photo, not at start-up.
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_PATH / "uploads"))
    #: Largest file accepted per photo, before re-encoding.
    UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
    #: Width × height above which a picture is refused before decoding (decompression bombs).
    UPLOAD_MAX_PIXELS = int(os.environ.get("UPLOAD_MAX_PIXELS", str(40_000_000)))
    #: Longest side of the stored photo and of its thumbnail, in pixels.
    PHOTO_MAX_SIDE = int(os.environ.get("PHOTO_MAX_SIDE", "2048"))
    THUMB_MAX_SIDE = int(os.environ.get("THUMB_MAX_SIDE", "480"))
    PHOTOS_PER_ITEM = int(os.environ.get("PHOTOS_PER_ITEM", "3"))
    # Document uploads (app/media/documents.py): PDFs only, rewritten page by page without
    # scripts, actions, annotations, forms, attachments or metadata.
    #: Largest PDF accepted, before it is rewritten.
    DOCUMENT_MAX_BYTES = int(os.environ.get("DOCUMENT_MAX_BYTES", str(5 * 1024 * 1024)))
    #: Most pages a PDF may have (a project plan, a letter of consent: not a book).
    DOCUMENT_MAX_PAGES = int(os.environ.get("DOCUMENT_MAX_PAGES", "50"))
    DOCUMENTS_PER_ITEM = int(os.environ.get("DOCUMENTS_PER_ITEM", "3"))

    # Open data (app/opendata) and feeds (app/feeds): the licence every export and feed is published under.
    OPEN_DATA_LICENCE = os.environ.get("OPEN_DATA_LICENCE", "CC BY 4.0")
    OPEN_DATA_LICENCE_URL = os.environ.get("OPEN_DATA_LICENCE_URL", "https://creativecommons.org/licenses/by/4.0/")
    #: Whom re-users credit ("Fonte: …").
    OPEN_DATA_ATTRIBUTION = os.environ.get("OPEN_DATA_ATTRIBUTION", "Città di Torino – Piazza")
    #: Open data downloads per address (each one streams a whole dataset inside a read snapshot).
    OPEN_DATA_DOWNLOAD_LIMIT = os.environ.get("OPEN_DATA_DOWNLOAD_LIMIT", "30 per minute;300 per day")
    #: How long a worker reuses the figures of /statistics (app/statistics/services.py); 0 computes every time.
    STATISTICS_CACHE_SECONDS = int(os.environ.get("STATISTICS_CACHE_SECONDS", "300"))

    @staticmethod
    def check(config):
        """Refuse configurations that must never run (see ProductionConfig)."""


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = True
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    IDENTITY_HMAC_KEY = os.environ.get("IDENTITY_HMAC_KEY", "dev-only-identity-key")
    # Quicker hashing on a laptop; production keeps the strong default.
    ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", "2"))


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"
    IDENTITY_HMAC_KEY = "testing-identity-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = _database_url("sqlite://")
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    STATISTICS_CACHE_SECONDS = 0
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1
    MAIL_SERVER = ""
    SERVER_NAME = None


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    HSTS = _bool("HSTS", True)
    SQLALCHEMY_DATABASE_URI = _database_url("") or None

    @staticmethod
    def check(config):
        """Production needs a real secret and an explicit database."""
        secret = config.get("SECRET_KEY") or ""
        if len(secret) < 32 or secret.startswith(("dev-", "testing-")):
            raise RuntimeError("SECRET_KEY must be set to a random value of at least 32 characters")
        if not config.get("SQLALCHEMY_DATABASE_URI"):
            raise RuntimeError("DATABASE_URL must be set in production")
        identity_key = config.get("IDENTITY_HMAC_KEY") or ""
        if len(identity_key) < 32 or identity_key.startswith(("dev-", "testing-")) or identity_key == secret:
            raise RuntimeError("IDENTITY_HMAC_KEY must be set to a random value of at least 32 characters, "
                               "different from SECRET_KEY")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env():
    """The configuration class named by PIAZZA_ENV (development by default)."""
    name = os.environ.get("PIAZZA_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"PIAZZA_ENV must be one of {sorted(CONFIGS)}, not {name!r}") from None

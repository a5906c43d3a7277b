"""Settings from the environment: the only module that reads ``os.environ``.

With no variables set at all the service runs on the embedded default: a SQLite file under the
instance folder, the in-process broker, and the development outbox (see API.md §5).
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

DEFAULT_INSTANCE_PATH = Path.cwd() / "instance"
# npm installs GOV.UK Frontend here (scripts/setup); the app serves its CSS, JS, fonts and images.
DEFAULT_NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"


def _secret_key(instance_path: Path) -> str:
    """A stable secret for the embedded default, made once and kept beside the database."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    """A setting that must be a whole number of at least 1: refused at start-up otherwise,
    rather than silently keeping rows for no time at all."""
    raw = env.get(name) or str(default)
    if not raw.strip().isdigit() or int(raw) < 1:
        raise RuntimeError(f"{name} must be a whole number of at least 1 (got {raw!r}).")
    return int(raw)


def normalise_database_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and use psycopg 3 for all of them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load(instance_path: Path, environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Build the Flask config mapping from ``environ`` (``os.environ`` by default)."""
    env = os.environ if environ is None else environ
    app_env = env.get("APP_ENV", "development")
    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'referrals.db'}"
    public_base_url = env.get("PUBLIC_BASE_URL", "http://localhost:5000").rstrip("/")
    served_over_https = public_base_url.startswith("https://")
    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        if app_env == "production":
            raise RuntimeError("SECRET_KEY must be set when APP_ENV=production.")
        secret_key = _secret_key(instance_path)
    return {
        "APP_ENV": app_env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BROKER_URL": env.get("BROKER_URL", "embedded"),
        "PUBLIC_BASE_URL": public_base_url,
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID"),
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN"),
        "TWILIO_FROM": env.get("TWILIO_FROM"),
        "TWILIO_MESSAGING_SERVICE_SID": env.get("TWILIO_MESSAGING_SERVICE_SID"),
        "TWILIO_API_BASE_URL": env.get("TWILIO_API_BASE_URL"),
        "SMTP_HOST": env.get("SMTP_HOST"),
        "SMTP_PORT": int(env.get("SMTP_PORT") or 587),
        "SMTP_USERNAME": env.get("SMTP_USERNAME"),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _flag(env.get("SMTP_STARTTLS"), default=True),
        "MAIL_FROM": env.get("MAIL_FROM"),
        # The development outbox shows every message in the browser: never in production.
        "DEV_OUTBOX_ENABLED": app_env != "production",
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure whenever people reach the service over HTTPS; production is always HTTPS.
        "SESSION_COOKIE_SECURE": app_env == "production" or served_over_https,
        # HSTS is sent only when the public address is HTTPS (never on plain-HTTP development).
        "SERVED_OVER_HTTPS": app_env == "production" or served_over_https,
        # A signed-in session lasts a working day; signing out ends it everywhere at once.
        "PERMANENT_SESSION_LIFETIME": int(env.get("SESSION_LIFETIME_SECONDS") or 8 * 3600),
        # CSRF tokens live as long as the session (Flask-WTF's default of an hour is too short
        # for someone filling in a long referral).
        "WTF_CSRF_TIME_LIMIT": None,
        "NODE_MODULES": env.get("NODE_MODULES") or str(DEFAULT_NODE_MODULES),
        "SERVICE_NAME": "Duty to Refer referrals",
        # Optional sign-in through an external OpenID Connect provider (e.g. an authority's Entra
        # ID); unset means local accounts only.
        "OIDC_ISSUER": (env.get("OIDC_ISSUER") or "").rstrip("/") or None,
        "OIDC_CLIENT_ID": env.get("OIDC_CLIENT_ID") or None,
        "OIDC_CLIENT_SECRET": env.get("OIDC_CLIENT_SECRET") or None,
        "OIDC_PROVIDER_NAME": env.get("OIDC_PROVIDER_NAME") or "your organisation's account",
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        # Rate limits, in Flask-Limiter's notation; shared across processes through Redis.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "API_RATE_LIMIT": env.get("API_RATE_LIMIT", "600 per minute"),
        "TOKEN_RATE_LIMIT": env.get("TOKEN_RATE_LIMIT", "60 per minute"),
        # Per address, on form posts: refused passwords, refused second-factor codes, and
        # password-reset requests (these also per email address asked about).
        "SIGN_IN_RATE_LIMIT": env.get("SIGN_IN_RATE_LIMIT", "10 per minute"),
        "SECOND_FACTOR_RATE_LIMIT": env.get("SECOND_FACTOR_RATE_LIMIT", "10 per minute"),
        "PASSWORD_RESET_RATE_LIMIT": env.get("PASSWORD_RESET_RATE_LIMIT", "5 per hour"),
        # /metrics: a bearer token for Prometheus; unset, only this machine may scrape.
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        "PROMETHEUS_MULTIPROC_DIR": prometheus_multiproc_dir(env),
        # Rows the scheduler deletes once they have no use (notifications/purge.py): access
        # tokens this long after they expired or were revoked, Idempotency-Key records this
        # long after the request (a partner's retry after a weekend outage still replays), and
        # at most this many rows per table per tick.
        "OAUTH_TOKEN_RETENTION_DAYS": _whole_number(env, "OAUTH_TOKEN_RETENTION_DAYS", 7),
        "IDEMPOTENCY_KEY_RETENTION_DAYS": _whole_number(env, "IDEMPOTENCY_KEY_RETENTION_DAYS", 7),
        "PURGE_BATCH_SIZE": _whole_number(env, "PURGE_BATCH_SIZE", 1000),
    }


def prometheus_multiproc_dir(environ: Mapping[str, str] | None = None) -> str | None:
    """Where gunicorn workers keep their metrics to be summed (prometheus_client reads the same
    variable itself); the gunicorn hooks ask here because they run before any app exists."""
    env = os.environ if environ is None else environ
    return env.get("PROMETHEUS_MULTIPROC_DIR") or None

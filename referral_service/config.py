"""Settings from the environment: the only module that reads ``os.environ``.

With no variables set at all the service runs on the embedded default: a SQLite file under the
instance folder and the in-process broker. The development outbox is off unless asked for
(``DEV_OUTBOX=on``, which ``referrals demo`` sets for itself; see API.md §5).
"""
from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from datetime import time
from pathlib import Path

from marshmallow import ValidationError

from referral_service.validation import check_https_url, has_control_characters

DEFAULT_INSTANCE_PATH = Path.cwd() / "instance"
_CLOCK_TIME = re.compile(r"[0-2][0-9]:[0-5][0-9]")
# npm installs GOV.UK Frontend here (scripts/setup); the app serves its CSS, JS, fonts and images.
DEFAULT_NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"


# The header's name on pages that are not one council's, until SERVICE_OPERATOR_NAME is set.
DEFAULT_OPERATOR_NAME = "Local housing authorities"
# The only APP_ENV values that are not production; anything else (a typo, "staging", "prod")
# gets production's rules, so a mistake fails closed.
NON_PRODUCTION = frozenset({"development", "test"})
# Any of these set means a real provider is meant: the development outbox page then stays off.
PROVIDER_KEYS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM",
                 "TWILIO_MESSAGING_SERVICE_SID", "SMTP_HOST", "MAIL_FROM")


def environment(value: object) -> str:
    """``development`` (unset), ``test``, or ``production`` for every other value."""
    if value is None or str(value).strip() == "":
        return "development"
    named = str(value).strip().lower()
    return named if named in NON_PRODUCTION else "production"


def dev_outbox_enabled(settings: Mapping[str, object], *, switched_on: bool) -> bool:
    """Whether a channel with no provider configured keeps its messages in the development
    outbox (instead of refusing to start): only when asked for, never in production."""
    return switched_on and environment(settings.get("APP_ENV")) != "production"


def dev_outbox_page(settings: Mapping[str, object]) -> bool:
    """Whether ``/dev/outbox`` exists: the development outbox is on and no SMS or email provider
    is configured at all (so the page shows only messages that were never sent)."""
    return (dev_outbox_enabled(settings, switched_on=bool(settings.get("DEV_OUTBOX_ENABLED")))
            and not any(settings.get(key) for key in PROVIDER_KEYS))


def demo_settings(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """What ``referrals demo`` changes: its messages go to the development outbox (unless this
    environment is production)."""
    env = os.environ if environ is None else environ
    return {"DEV_OUTBOX_ENABLED": dev_outbox_enabled(env, switched_on=True)}


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


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of seconds, or a start-up error that names the variable."""
    value = env.get(name) or ""
    if not value.strip():
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise RuntimeError(f"{name} must be a positive number of seconds, not {value!r}.")
    return seconds


def _whole_number(env: Mapping[str, str], name: str, default: int, least: int = 0) -> int:
    """A count or a number of seconds; a setting that is not one stops the start, saying so."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < least:
        raise RuntimeError(f"{name} must be a whole number, {least} or more (it is {raw!r}).")
    return int(raw)


def _operator_link(env: Mapping[str, str], name: str) -> str | None:
    """An https address for the operator's footer, or a start-up error that names the variable
    (a link on every page is checked once, here, rather than drawn broken)."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    try:
        return check_https_url(raw)
    except ValidationError as error:
        raise RuntimeError(f"{name} must be an https:// web address (it is {raw!r}).") from error


def _quiet_hours(env: Mapping[str, str]) -> tuple[time, time] | None:
    """``APPLICANT_QUIET_HOURS``: ``HH:MM-HH:MM`` London time (the start, then the end, which may
    be past midnight), or None for the default (21:00-08:00, ``notifications.quiet_hours``).
    Quiet hours can be moved or shortened, not switched off: a start equal to its end is
    refused."""
    raw = (env.get("APPLICANT_QUIET_HOURS") or "").strip()
    if not raw:
        return None
    refused = RuntimeError("APPLICANT_QUIET_HOURS must be two London times, the start and the "
                           f"end, as HH:MM-HH:MM (e.g. 21:00-08:00); it is {raw!r}.")
    start_text, dash, end_text = raw.partition("-")
    if not dash or not all(_CLOCK_TIME.fullmatch(part.strip())
                           for part in (start_text, end_text)):
        raise refused
    try:
        start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
    except ValueError:
        raise refused from None
    if start == end:
        raise refused
    return start, end


def _operator_name(env: Mapping[str, str]) -> str:
    name = " ".join((env.get("SERVICE_OPERATOR_NAME") or "").split())
    if has_control_characters(name) or len(name) > 200:
        raise RuntimeError("SERVICE_OPERATOR_NAME must be one line of at most 200 characters.")
    return name or DEFAULT_OPERATOR_NAME


def normalise_database_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and use psycopg 3 for all of them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _digest_minutes(value: str | None) -> int:
    if not value:
        return 30
    try:
        minutes = int(value)
    except ValueError:
        minutes = 0
    if not 1 <= minutes <= 1440:
        raise RuntimeError("ARRIVAL_DIGEST_MINUTES must be a whole number of minutes from 1 to "
                           f"1440 (it is {value!r}).")
    return minutes


def load(instance_path: Path, environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Build the Flask config mapping from ``environ`` (``os.environ`` by default)."""
    env = os.environ if environ is None else environ
    app_env = environment(env.get("APP_ENV"))
    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'referrals.db'}"
    public_base_url = env.get("PUBLIC_BASE_URL", "http://localhost:5000").rstrip("/")
    served_over_https = public_base_url.startswith("https://")
    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        if app_env == "production":
            raise RuntimeError("SECRET_KEY must be set when APP_ENV=production (any APP_ENV "
                               "other than development or test counts as production).")
        secret_key = _secret_key(instance_path)
    return {
        "APP_ENV": app_env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        # hide_parameters: a failed statement's error (and any log of it) must not carry the
        # values bound to it, which are names, phone numbers and notes.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "BROKER_URL": env.get("BROKER_URL", "embedded"),
        "PUBLIC_BASE_URL": public_base_url,
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID"),
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN"),
        "TWILIO_FROM": env.get("TWILIO_FROM"),
        "TWILIO_MESSAGING_SERVICE_SID": env.get("TWILIO_MESSAGING_SERVICE_SID"),
        "TWILIO_API_BASE_URL": env.get("TWILIO_API_BASE_URL"),
        # How long a send waits for the provider's answer. After a timeout the message's fate
        # is unknown (it may have gone) and it is reconciled, not resent.
        "TWILIO_TIMEOUT_SECONDS": _seconds(env, "TWILIO_TIMEOUT_SECONDS", 10.0),
        "SMTP_HOST": env.get("SMTP_HOST"),
        "SMTP_PORT": int(env.get("SMTP_PORT") or 587),
        "SMTP_USERNAME": env.get("SMTP_USERNAME"),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _flag(env.get("SMTP_STARTTLS"), default=True),
        "SMTP_TIMEOUT_SECONDS": _seconds(env, "SMTP_TIMEOUT_SECONDS", 10.0),
        # The team mailbox hears of non-urgent arrivals in the team queue in one digest per
        # this many minutes (1 to 1440); urgent ones at once (notifications.outbox).
        "ARRIVAL_DIGEST_MINUTES": _digest_minutes(env.get("ARRIVAL_DIGEST_MINUTES")),
        "MAIL_FROM": env.get("MAIL_FROM"),
        "DEV_OUTBOX_ENABLED": dev_outbox_enabled(env, switched_on=_flag(env.get("DEV_OUTBOX"))),
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure whenever people reach the service over HTTPS; production is always HTTPS.
        "SESSION_COOKIE_SECURE": app_env == "production" or served_over_https,
        # HSTS is sent only when the public address is HTTPS (never on plain-HTTP development).
        "SERVED_OVER_HTTPS": app_env == "production" or served_over_https,
        # A signed-in session lasts a working day; signing out ends it everywhere at once.
        "PERMANENT_SESSION_LIFETIME": int(env.get("SESSION_LIFETIME_SECONDS") or 8 * 3600),
        # That cookie lifetime is renewed by every request, so it ends only idle sessions; this
        # one, counted from signing in, ends a session however busy it is.
        "SESSION_ABSOLUTE_LIFETIME": int(
            env.get("SESSION_ABSOLUTE_LIFETIME_SECONDS") or 12 * 3600),
        # CSRF tokens live as long as the session (Flask-WTF's default of an hour is too short
        # for someone filling in a long referral).
        "WTF_CSRF_TIME_LIMIT": None,
        "NODE_MODULES": env.get("NODE_MODULES") or str(DEFAULT_NODE_MODULES),
        "SERVICE_NAME": "Duty to Refer referrals",
        # Who runs this deployment: named in the header, titles and footer of every page that is
        # not one council's (signed out, referrers, panel leads); see web/branding.py.
        "SERVICE_OPERATOR_NAME": _operator_name(env),
        "SERVICE_OPERATOR_ACCESSIBILITY_URL": _operator_link(
            env, "SERVICE_OPERATOR_ACCESSIBILITY_URL"),
        "SERVICE_OPERATOR_PRIVACY_URL": _operator_link(env, "SERVICE_OPERATOR_PRIVACY_URL"),
        "SERVICE_OPERATOR_CONTACT_URL": _operator_link(env, "SERVICE_OPERATOR_CONTACT_URL"),
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
        # A transfer to a council not on the service (domain/external_transfers.py): how long
        # its one-time link works, the email domains its housing options team's address may
        # have (comma-separated; empty: any), and how often one address may open the page.
        "TRANSFER_LINK_LIFETIME_DAYS": _whole_number(env, "TRANSFER_LINK_LIFETIME_DAYS", 14,
                                                     least=1),
        "TRANSFER_EMAIL_DOMAINS": tuple(
            d.strip().lower().lstrip("@.") for d in (env.get(
                "TRANSFER_EMAIL_DOMAINS", "gov.uk,gov.wales,llyw.cymru,gov.scot")).split(",")
            if d.strip()),
        "TRANSFER_LINK_RATE_LIMIT": env.get("TRANSFER_LINK_RATE_LIMIT", "30 per minute"),
        # /metrics: a bearer token for Prometheus; unset, only this machine may scrape.
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: none is
        # believed); see referral_service/proxies.py.
        "TRUSTED_PROXIES": _whole_number(env, "TRUSTED_PROXIES", 0),
        # Seconds to wait for a database connection (also for a free one from the pool), and
        # the longest one statement may run (PostgreSQL); see referral_service/database.py.
        "DATABASE_CONNECT_TIMEOUT": _whole_number(env, "DATABASE_CONNECT_TIMEOUT", 5, least=1),
        "DATABASE_STATEMENT_TIMEOUT": _whole_number(env, "DATABASE_STATEMENT_TIMEOUT", 30,
                                                    least=1),
        "PROMETHEUS_MULTIPROC_DIR": prometheus_multiproc_dir(env),
        # Rows the scheduler deletes once they have no use (notifications/purge.py): access
        # tokens this long after they expired or were revoked, Idempotency-Key records this
        # long after the request (a partner's retry after a weekend outage still replays), and
        # at most this many rows per table per tick.
        "OAUTH_TOKEN_RETENTION_DAYS": _whole_number(env, "OAUTH_TOKEN_RETENTION_DAYS", 7, least=1),
        "IDEMPOTENCY_KEY_RETENTION_DAYS": _whole_number(env, "IDEMPOTENCY_KEY_RETENTION_DAYS", 7,
                                                        least=1),
        "PURGE_BATCH_SIZE": _whole_number(env, "PURGE_BATCH_SIZE", 1000, least=1),
        # Supporting documents (domain/documents.py): kept outside the database, in a local
        # directory (the one store so far), virus-scanned by clamd when its socket is given.
        "DOCUMENT_STORE": (env.get("DOCUMENT_STORE") or "local").strip().lower(),
        "DOCUMENTS_DIR": env.get("DOCUMENTS_DIR") or str(instance_path / "documents"),
        "CLAMD_SOCKET": env.get("CLAMD_SOCKET") or None,
        "CLAMD_TIMEOUT_SECONDS": _seconds(env, "CLAMD_TIMEOUT_SECONDS", 30.0),
        # A council's own applicant wording in further languages, <code>.toml files checked at
        # start-up (notifications/languages.py; docs/messaging.md, "Languages").
        "MESSAGE_TEMPLATES_DIR": env.get("MESSAGE_TEMPLATES_DIR") or None,
        # Partner webhooks (docs/webhooks.md): how long each step of a delivery may take (a
        # later answer counts as a failure and is retried), and extra trusted CA certificates.
        "WEBHOOK_TIMEOUT_SECONDS": _seconds(env, "WEBHOOK_TIMEOUT_SECONDS", 10.0),
        "WEBHOOK_CA_FILE": env.get("WEBHOOK_CA_FILE") or None,
        # The hours applicants are never messaged, London time (None: 21:00-08:00); see
        # notifications/quiet_hours.py and docs/messaging.md.
        "APPLICANT_QUIET_HOURS": _quiet_hours(env),
    }


def prometheus_multiproc_dir(environ: Mapping[str, str] | None = None) -> str | None:
    """Where gunicorn workers keep their metrics to be summed (prometheus_client reads the same
    variable itself); the gunicorn hooks ask here because they run before any app exists."""
    env = os.environ if environ is None else environ
    return env.get("PROMETHEUS_MULTIPROC_DIR") or None

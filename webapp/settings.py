"""Settings: committed defaults, then the environment, then explicit overrides, validated at start-up
into one typed, frozen object.

The app refuses to start on a configuration it cannot run safely, with a one-line reason,
instead of falling back to a default secret. The app's code reads `current_settings()`;
`app.config` mirrors the same values for Flask and its extensions.
"""

from __future__ import annotations

import dataclasses
import os
import runpy
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from webapp.services.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH_FLOOR

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "production")
# Rate-limit stores shared by every worker of every instance (production runs many).
SHARED_RATELIMIT_SCHEMES = ("redis://", "rediss://", "redis+sentinel://", "redis+cluster://", "redis+unix://")
# How SMS leave (webapp/services/accounts/sms.py): only the console gateway until a provider is chosen.
SMS_GATEWAYS = ("console",)
JOB_QUEUE_REDIS_SCHEMES = ("redis://", "rediss://")

# Settings that are gone, and what replaces them: refused when the environment still sets one, so
# that an upgrade does not silently leave files where nothing reads them.
RETIRED_SETTINGS = {
    "REGISTER_IMPORT_DIR": (
        "uploaded register files now wait in JOB_FILES_DIR, under imports/ (move the files of the old "
        "folder there, see docs/operations.md, 'Bulk import of the register'), then remove it"
    ),
}


class ConfigError(RuntimeError):
    """The configuration cannot run: the message is the one-line reason shown to the operator."""


@dataclass(frozen=True)
class Settings:
    """Every setting of config/defaults.py, typed (the comments there say what each one does)."""

    CARTE_ENV: str
    DATABASE_URL: str
    PUBLIC_BASE_URL: str
    KEYS_DIR: str
    SECRET_KEY_FILE: str
    PUBLIC_BASE_URL_FILE: str
    CARD_VALIDITY_YEARS: int
    KEYRING_REFRESH_SECONDS: int
    TRUST_MAX_AGE_SECONDS: int
    STATUS_LIST_MAX_AGE_SECONDS: int
    STATUS_LIST_VALIDITY_SECONDS: int
    PUBLIC_BUNDLE_MAX_AGE_HOURS: int
    RATELIMIT_STORAGE_URI: str
    RATELIMIT_KEY_PREFIX: str
    VERIFY_RATE_LIMIT: str
    LOGIN_RATE_LIMIT: str
    REDEMPTION_RATE_LIMIT: str
    SIGN_IN_LOCK_AFTER_FAILURES: int
    SIGN_IN_LOCK_MINUTES: int
    SIGN_IN_CLIENT_LOCK_AFTER_FAILURES: int
    PASSWORD_MIN_LENGTH: int
    TRUSTED_PROXY_COUNT: int
    MAX_CONTENT_LENGTH: int
    SESSION_COOKIE_HTTPONLY: bool
    SESSION_COOKIE_SAMESITE: str
    SESSION_COOKIE_SECURE: bool
    REGISTER_IMPORT_MAX_BYTES: int
    EXPORT_RETENTION_DAYS: int
    # Faults and timeouts (config/defaults.py says what each one bounds).
    DATABASE_CONNECT_TIMEOUT_SECONDS: int
    DATABASE_STATEMENT_TIMEOUT_SECONDS: int
    DATABASE_LOCK_TIMEOUT_SECONDS: int
    DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS: int
    DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS: int
    DATABASE_POOL_TIMEOUT_SECONDS: int
    DATABASE_POOL_PRE_PING: bool
    SQLITE_BUSY_TIMEOUT_SECONDS: int
    REQUEST_DEADLINE_SECONDS: int
    REQUEST_LONG_DEADLINE_SECONDS: int
    REDIS_CONNECT_TIMEOUT_SECONDS: int
    REDIS_SOCKET_TIMEOUT_SECONDS: int
    REDIS_RETRY_SECONDS: int
    # Card activation codes (config/defaults.py, "Card activation codes").
    ACTIVATION_CODE_VALIDITY_DAYS: int
    ACTIVATION_LOCK_AFTER_FAILURES: int
    ACTIVATION_CLIENT_LOCK_AFTER_FAILURES: int
    ACTIVATION_LOCK_MINUTES: int
    SMS_GATEWAY: str
    # Who checked a card (config/defaults.py, "Who checked a card").
    CARD_CHECK_RETENTION_MONTHS: int
    # Job workers (config/defaults.py, "Job workers").
    JOB_QUEUE_URL: str
    JOB_QUEUE_NAME: str
    JOB_FILES_DIR: str
    JOB_HEARTBEAT_SECONDS: int
    JOB_STALE_SECONDS: int
    # Print batches (config/defaults.py, "Print batches for the postal printer").
    PRINT_BATCH_RETENTION_DAYS: int
    PRINT_BATCH_PART_SIZE: int
    SECRET_KEY: str | None = dataclasses.field(default=None, repr=False)

    @property
    def is_production(self) -> bool:
        return self.CARTE_ENV == "production"


_FIELD_TYPES = typing.get_type_hints(Settings)
SETTING_NAMES = tuple(field.name for field in dataclasses.fields(Settings))


def build_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """The settings from config/defaults.py, the environment and explicit overrides, validated."""
    values: dict[str, Any] = {
        name: value
        for name, value in runpy.run_path(str(PROJECT_ROOT / "config" / "defaults.py")).items()
        if name in SETTING_NAMES
    }
    for name, replacement in RETIRED_SETTINGS.items():
        if name in os.environ:
            raise ConfigError(f"{name} is no longer a setting: {replacement}")
    for name in SETTING_NAMES:
        if name in os.environ:
            values[name] = _parse(name, os.environ[name])
    values.update({name: value for name, value in (overrides or {}).items() if name in SETTING_NAMES})
    if "PUBLIC_BASE_URL" not in os.environ and "PUBLIC_BASE_URL" not in (overrides or {}):
        values["PUBLIC_BASE_URL"] = (
            instance_public_base_url(values["PUBLIC_BASE_URL_FILE"]) or values["PUBLIC_BASE_URL"]
        )
    values["KEYS_DIR"] = str(_from_root(values["KEYS_DIR"]))
    values["JOB_FILES_DIR"] = str(_from_root(values["JOB_FILES_DIR"]))
    values["JOB_QUEUE_URL"] = _absolute_sqlite_url(values["JOB_QUEUE_URL"])
    values["DATABASE_URL"] = _absolute_sqlite_url(values["DATABASE_URL"])
    values["PUBLIC_BASE_URL"] = values["PUBLIC_BASE_URL"].rstrip("/")
    if not values.get("SECRET_KEY"):
        values["SECRET_KEY"] = _read_secret_key_file(_from_root(values["SECRET_KEY_FILE"]))
    settings = Settings(**values)
    validate_settings(settings)
    return settings


def validate_settings(settings: Settings) -> None:
    """Raise ConfigError when the settings cannot run (always: the secret key; production: HTTPS,
    secure cookies and a shared rate-limit store)."""
    if settings.CARTE_ENV not in ENVIRONMENTS:
        raise ConfigError(f"CARTE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {settings.CARTE_ENV!r}")
    if not settings.SECRET_KEY:
        raise ConfigError(
            f"no secret key: set SECRET_KEY or create {settings.SECRET_KEY_FILE} (`make run` does it for development)"
        )
    if settings.STATUS_LIST_MAX_AGE_SECONDS * 2 > settings.STATUS_LIST_VALIDITY_SECONDS:
        # A list is signed again after half its validity: a client caching it longer could hold
        # one that expires in its cache (docs/card-token.md, rule S6).
        raise ConfigError(
            "STATUS_LIST_MAX_AGE_SECONDS must be at most half of STATUS_LIST_VALIDITY_SECONDS "
            f"({settings.STATUS_LIST_MAX_AGE_SECONDS} > {settings.STATUS_LIST_VALIDITY_SECONDS} / 2)"
        )
    if settings.PUBLIC_BUNDLE_MAX_AGE_HOURS < 1 or settings.PUBLIC_BUNDLE_MAX_AGE_HOURS * 3600 > (
        settings.STATUS_LIST_VALIDITY_SECONDS
    ):
        # The status list inside a bundle must outlive it (docs/card-token.md, rule B4).
        raise ConfigError(
            "PUBLIC_BUNDLE_MAX_AGE_HOURS must be at least 1 and within STATUS_LIST_VALIDITY_SECONDS "
            f"({settings.PUBLIC_BUNDLE_MAX_AGE_HOURS} h > {settings.STATUS_LIST_VALIDITY_SECONDS} s)"
        )
    if min(settings.SIGN_IN_LOCK_AFTER_FAILURES, settings.SIGN_IN_LOCK_MINUTES) < 1:
        raise ConfigError("SIGN_IN_LOCK_AFTER_FAILURES and SIGN_IN_LOCK_MINUTES must be at least 1")
    if settings.SIGN_IN_CLIENT_LOCK_AFTER_FAILURES < settings.SIGN_IN_LOCK_AFTER_FAILURES:
        # A person who mistypes their own password must meet their account's lock first.
        raise ConfigError("SIGN_IN_CLIENT_LOCK_AFTER_FAILURES must be at least SIGN_IN_LOCK_AFTER_FAILURES")
    if not MIN_PASSWORD_LENGTH_FLOOR <= settings.PASSWORD_MIN_LENGTH <= MAX_PASSWORD_LENGTH:
        raise ConfigError(
            f"PASSWORD_MIN_LENGTH must be between {MIN_PASSWORD_LENGTH_FLOOR} and {MAX_PASSWORD_LENGTH} "
            f"(the list of common passwords holds those of {MIN_PASSWORD_LENGTH_FLOOR} characters and more)"
        )
    if settings.REGISTER_IMPORT_MAX_BYTES < 1024:
        raise ConfigError(f"REGISTER_IMPORT_MAX_BYTES must be at least 1024, not {settings.REGISTER_IMPORT_MAX_BYTES}")
    if not 1 <= settings.EXPORT_RETENTION_DAYS <= 365:
        raise ConfigError(f"EXPORT_RETENTION_DAYS must be from 1 to 365, not {settings.EXPORT_RETENTION_DAYS}")
    validate_timeouts(settings)
    validate_activation(settings)
    if not 1 <= settings.CARD_CHECK_RETENTION_MONTHS <= 120:
        raise ConfigError(
            f"CARD_CHECK_RETENTION_MONTHS must be from 1 to 120, not {settings.CARD_CHECK_RETENTION_MONTHS}"
        )
    validate_jobs(settings)
    if not 1 <= settings.PRINT_BATCH_RETENTION_DAYS <= 3650:
        raise ConfigError(
            f"PRINT_BATCH_RETENTION_DAYS must be from 1 to 3650, not {settings.PRINT_BATCH_RETENTION_DAYS}"
        )
    if not 1 <= settings.PRINT_BATCH_PART_SIZE <= 10_000:
        raise ConfigError(f"PRINT_BATCH_PART_SIZE must be from 1 to 10000, not {settings.PRINT_BATCH_PART_SIZE}")
    if not settings.is_production:
        return
    if len(settings.SECRET_KEY) < 32:
        raise ConfigError("SECRET_KEY must be at least 32 characters in production")
    if not settings.PUBLIC_BASE_URL.startswith("https://"):
        raise ConfigError("PUBLIC_BASE_URL must be an https:// URL in production")
    if not settings.SESSION_COOKIE_SECURE:
        raise ConfigError("SESSION_COOKIE_SECURE must be true in production (cookies only over HTTPS)")
    if not settings.RATELIMIT_STORAGE_URI.startswith(SHARED_RATELIMIT_SCHEMES):
        raise ConfigError(
            "RATELIMIT_STORAGE_URI must be a Redis URL in production (redis://host:6379), shared by every worker"
        )
    if not settings.JOB_QUEUE_URL.startswith(JOB_QUEUE_REDIS_SCHEMES):
        raise ConfigError(
            "JOB_QUEUE_URL must be a Redis URL in production (redis://host:6379/1), shared by every instance and worker"
        )


def validate_jobs(settings: Settings) -> None:
    """A queue the workers can reach, and a heartbeat well inside the time that declares a job dead."""
    if settings.JOB_QUEUE_URL != "immediate" and not settings.JOB_QUEUE_URL.startswith(
        ("sqlite:///", *JOB_QUEUE_REDIS_SCHEMES)
    ):
        raise ConfigError(
            f"JOB_QUEUE_URL must be sqlite:///<file>, redis://host:port/db or immediate, not {settings.JOB_QUEUE_URL!r}"
        )
    if settings.JOB_HEARTBEAT_SECONDS < 1 or settings.JOB_STALE_SECONDS < 3 * settings.JOB_HEARTBEAT_SECONDS:
        raise ConfigError("JOB_HEARTBEAT_SECONDS must be at least 1, and JOB_STALE_SECONDS at least three heartbeats")


def validate_activation(settings: Settings) -> None:
    """Activation codes: a validity and limits that exist, the client's limit above the card's."""
    names = (
        "ACTIVATION_CODE_VALIDITY_DAYS",
        "ACTIVATION_LOCK_AFTER_FAILURES",
        "ACTIVATION_CLIENT_LOCK_AFTER_FAILURES",
        "ACTIVATION_LOCK_MINUTES",
    )
    for name in names:
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name} must be at least 1")
    if settings.SMS_GATEWAY not in SMS_GATEWAYS:
        raise ConfigError(f"SMS_GATEWAY must be one of {', '.join(SMS_GATEWAYS)}, not {settings.SMS_GATEWAY!r}")
    if settings.ACTIVATION_CLIENT_LOCK_AFTER_FAILURES < settings.ACTIVATION_LOCK_AFTER_FAILURES:
        # An artisan who mistypes their own birth date must meet their card's lock first.
        raise ConfigError("ACTIVATION_CLIENT_LOCK_AFTER_FAILURES must be at least ACTIVATION_LOCK_AFTER_FAILURES")


# Timeouts that must be at least 1 second (0 would mean "wait forever" to libpq and Redis).
_POSITIVE_TIMEOUTS = (
    "DATABASE_CONNECT_TIMEOUT_SECONDS",
    "DATABASE_STATEMENT_TIMEOUT_SECONDS",
    "DATABASE_LOCK_TIMEOUT_SECONDS",
    "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS",
    "DATABASE_POOL_TIMEOUT_SECONDS",
    "SQLITE_BUSY_TIMEOUT_SECONDS",
    "REDIS_CONNECT_TIMEOUT_SECONDS",
    "REDIS_SOCKET_TIMEOUT_SECONDS",
    "REDIS_RETRY_SECONDS",
)


def validate_timeouts(settings: Settings) -> None:
    """The faults block: every wait bounded, and the request's deadline after the server's own limits
    (so that PostgreSQL's clean refusal answers first whenever the server can still answer)."""
    for name in _POSITIVE_TIMEOUTS:
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name} must be at least 1 (seconds), not {getattr(settings, name)}")
    for name in ("DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS", "REQUEST_DEADLINE_SECONDS"):
        if getattr(settings, name) < 0:
            raise ConfigError(f"{name} must be 0 (no limit) or more, not {getattr(settings, name)}")
    deadline = settings.REQUEST_DEADLINE_SECONDS
    if deadline and deadline <= max(
        settings.DATABASE_STATEMENT_TIMEOUT_SECONDS, settings.DATABASE_CONNECT_TIMEOUT_SECONDS
    ):
        raise ConfigError(
            "REQUEST_DEADLINE_SECONDS must be longer than DATABASE_STATEMENT_TIMEOUT_SECONDS and "
            f"DATABASE_CONNECT_TIMEOUT_SECONDS ({deadline} s is not)"
        )
    if max(deadline, 1) > settings.REQUEST_LONG_DEADLINE_SECONDS:
        raise ConfigError("REQUEST_LONG_DEADLINE_SECONDS must be at least REQUEST_DEADLINE_SECONDS")


def signing_key_warning(settings: Settings) -> str | None:
    """In production, why no key in KEYS_DIR can sign, in one line, or None.

    A warning, not a refusal: a key file lost or made unreadable must not take the instance down at
    its next restart. The server starts, verifies cards and serves the trust material already signed
    until it expires; issuing answers 503 saying which key's file is missing or unreadable, and where.
    """
    if not settings.is_production:
        return None
    keys_dir = Path(settings.KEYS_DIR)
    if not any(path.is_file() and _readable(path) for path in keys_dir.glob("*.pem")):
        return (
            f"no readable signing key in {keys_dir}: cards are verified, but nothing can be signed "
            "(restore the key files from the backup of KEYS_DIR, or `flask --app wsgi keys generate` on a new install)"
        )
    return None


def startup_refusal() -> str | None:
    """Why the server cannot start with this environment, in one line, or None.

    gunicorn's master calls it before any worker boots (config/gunicorn.conf.py), so a refused
    configuration stops the server at once instead of workers failing and restarting forever.
    """
    try:
        build_settings()
    except ConfigError as refusal:
        return str(refusal)
    return None


def startup_warning() -> str | None:
    """What the operator must know at start although the server can serve (config/gunicorn.conf.py)."""
    try:
        return signing_key_warning(build_settings())
    except ConfigError:
        return None


def init_app(app: Flask, settings: Settings, overrides: dict[str, Any] | None) -> None:
    """Keep the settings on the app and mirror them (and Flask-only overrides) into app.config."""
    app.extensions["settings"] = settings
    app.config.update(dataclasses.asdict(settings))
    # The card app signs artisans in with Flask-Login's "remember me" cookie (a phone app must not
    # lose its session when the browser closes): it follows the session cookie's rules.
    app.config.update(
        REMEMBER_COOKIE_SECURE=settings.SESSION_COOKIE_SECURE,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE=settings.SESSION_COOKIE_SAMESITE,
    )
    # Flask and extension switches a test may set (TESTING, RATELIMIT_ENABLED...) pass through.
    app.config.update({name: value for name, value in (overrides or {}).items() if name not in SETTING_NAMES})


def current_settings(app: Flask | None = None) -> Settings:
    """The settings of the given app, or of the current one."""
    return (app or current_app).extensions["settings"]


def _parse(name: str, raw: str) -> Any:
    kind = _FIELD_TYPES[name]
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, not {raw!r}") from None
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered not in ("1", "true", "yes", "on", "0", "false", "no", "off", ""):
            raise ConfigError(f"{name} must be true or false, not {raw!r}")
        return lowered in ("1", "true", "yes", "on")
    return raw


def _from_root(path: str) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


def _absolute_sqlite_url(url: str) -> str:
    """Resolve a relative SQLite path against the project root, so the CWD does not matter."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str(_from_root(url[len(prefix) :]))
    return url


def instance_public_base_url(path: str) -> str | None:
    """The address `flask setup` wrote for this instance (development), or None."""
    return _read_secret_key_file(_from_root(path))


def remember_public_base_url(path: str, url: str) -> Path:
    """Write the instance's address for the commands run later (what `flask setup` does)."""
    target = _from_root(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(url.rstrip("/") + "\n", encoding="utf-8")
    return target


def _read_secret_key_file(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _readable(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return bool(handle.read(1))
    except OSError:
        return False

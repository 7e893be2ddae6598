"""Settings: committed defaults, then the environment, then validation at start-up.

The app refuses to start on a configuration it cannot run safely, with a one-line reason,
instead of falling back to a default secret.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_INT_SETTINGS = {
    "CARD_VALIDITY_YEARS",
    "KEYRING_REFRESH_SECONDS",
    "STATUS_LIST_MAX_AGE_SECONDS",
    "STATUS_LIST_VALIDITY_SECONDS",
    "MAX_CONTENT_LENGTH",
    "TRUSTED_PROXY_COUNT",
}
_BOOL_SETTINGS = {"SESSION_COOKIE_SECURE"}
ENVIRONMENTS = ("development", "production")


class ConfigError(RuntimeError):
    """The configuration cannot run: the message is the one-line reason shown to the operator."""


def load_settings(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Fill app.config from config/defaults.py, the environment and explicit overrides."""
    defaults = {
        name: value
        for name, value in runpy.run_path(str(PROJECT_ROOT / "config" / "defaults.py")).items()
        if name.isupper()
    }
    app.config.update(defaults)
    for name in [*defaults, "SECRET_KEY", "SECRET_KEY_FILE"]:
        if name in os.environ:
            app.config[name] = _parse(name, os.environ[name])
    app.config.update(overrides or {})
    app.config["KEYS_DIR"] = str(_from_root(app.config["KEYS_DIR"]))
    app.config["DATABASE_URL"] = _absolute_sqlite_url(app.config["DATABASE_URL"])
    app.config["PUBLIC_BASE_URL"] = app.config["PUBLIC_BASE_URL"].rstrip("/")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _read_secret_key_file(_from_root(app.config["SECRET_KEY_FILE"]))


def validate_settings(config: dict[str, Any]) -> None:
    """Raise ConfigError when the settings cannot run (always: the secret key; production: HTTPS)."""
    if config["CARTE_ENV"] not in ENVIRONMENTS:
        raise ConfigError(f"CARTE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {config['CARTE_ENV']!r}")
    if not config.get("SECRET_KEY"):
        raise ConfigError(
            f"no secret key: set SECRET_KEY or create {config['SECRET_KEY_FILE']} (`make run` does it for development)"
        )
    if config["CARTE_ENV"] == "production":
        if len(config["SECRET_KEY"]) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production")
        if not config["PUBLIC_BASE_URL"].startswith("https://"):
            raise ConfigError("PUBLIC_BASE_URL must be an https:// URL in production")


def _parse(name: str, raw: str) -> Any:
    if name in _INT_SETTINGS:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, not {raw!r}") from None
    if name in _BOOL_SETTINGS:
        return raw.strip().lower() in ("1", "true", "yes", "on")
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


def _read_secret_key_file(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None

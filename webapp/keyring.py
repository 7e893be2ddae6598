"""The per-process keyring: key objects loaded once and refreshed every few seconds, so that
rotations and retirements made by the CLI reach running workers without a restart."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy.orm import Session

from webapp.services.trust.signing_keys import Keyring, load_keyring
from webapp.settings import ConfigError


class KeyringCache:
    def __init__(self, session_factory: Callable[[], Session], keys_dir: str, refresh_seconds: int) -> None:
        self.session_factory = session_factory
        self.keys_dir = keys_dir
        self.refresh_seconds = refresh_seconds
        self._keyring: Keyring | None = None
        self._loaded_at = 0.0

    def get(self) -> Keyring:
        """The cached keyring; a session is opened only when it is time to reload."""
        if self._keyring is None or time.monotonic() - self._loaded_at > self.refresh_seconds:
            with self.session_factory() as session:
                self._keyring = load_keyring(session, self.keys_dir)
            self._loaded_at = time.monotonic()
        return self._keyring

    def invalidate(self) -> None:
        self._keyring = None


def init_app(app: Flask) -> None:
    """Needs the database (db.init_app) first."""
    app.extensions["keyring"] = KeyringCache(
        app.extensions["database"].session_factory, app.config["KEYS_DIR"], app.config["KEYRING_REFRESH_SECONDS"]
    )


def current_keyring() -> Keyring:
    return current_app.extensions["keyring"].get()


def invalidate_keyring() -> None:
    current_app.extensions["keyring"].invalidate()


def check_signing_key_for_serving(app: Flask) -> None:
    """In production, refuse to serve without a readable private key in KEYS_DIR.

    Commands run through `flask --app wsgi ...` are exempt: they are how the first key is made.
    """
    if app.config["CARTE_ENV"] != "production" or click.get_current_context(silent=True) is not None:
        return
    keys_dir = Path(app.config["KEYS_DIR"])
    readable = [path for path in keys_dir.glob("*.pem") if path.is_file() and _readable(path)]
    if not readable:
        raise ConfigError(f"no readable signing key in {keys_dir}: run `flask --app wsgi keys generate`")


def _readable(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return bool(handle.read(1))
    except OSError:
        return False

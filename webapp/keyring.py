"""The per-process keyring: key objects loaded once and refreshed every few seconds, so that
rotations and retirements made by the CLI reach running workers without a restart."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy.orm import Session

from webapp.services.trust.signing_keys import Keyring, load_keyring
from webapp.settings import current_settings


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
    settings = current_settings(app)
    app.extensions["keyring"] = KeyringCache(
        app.extensions["database"].session_factory, settings.KEYS_DIR, settings.KEYRING_REFRESH_SECONDS
    )


def current_keyring() -> Keyring:
    return current_app.extensions["keyring"].get()


def invalidate_keyring() -> None:
    current_app.extensions["keyring"].invalidate()

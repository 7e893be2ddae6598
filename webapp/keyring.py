"""The per-process keyring: key objects loaded once and refreshed every few seconds, so that
rotations and retirements made by the CLI reach running workers without a restart."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import Flask, current_app, has_request_context
from sqlalchemy.orm import Session

from webapp.db import get_session
from webapp.services.trust.signing_keys import Keyring, load_keyring
from webapp.settings import current_settings

logger = logging.getLogger(__name__)


class KeyringCache:
    def __init__(self, session_factory: Callable[[], Session], keys_dir: str, refresh_seconds: int) -> None:
        self.session_factory = session_factory
        self.keys_dir = keys_dir
        self.refresh_seconds = refresh_seconds
        self._keyring: Keyring | None = None
        self._loaded_at = 0.0
        self._reported: str | None = None

    def get(self, request_session: Callable[[], Session] | None = None) -> Keyring:
        """The cached keyring, reloaded only when it is time: through the request's session when
        one is given, else through a session of its own."""
        if self._keyring is None or time.monotonic() - self._loaded_at > self.refresh_seconds:
            if request_session is not None:
                self._keyring = load_keyring(request_session(), self.keys_dir)
            else:
                with self.session_factory() as session:
                    self._keyring = load_keyring(session, self.keys_dir)
            self._loaded_at = time.monotonic()
            self._report(self._keyring)
        return self._keyring

    def _report(self, keyring: Keyring) -> None:
        """Log at once, as an error, that the active key cannot sign (which kid, which file, why);
        once per problem and worker, not on every reload, and say when it is solved."""
        problem = str(keyring.signer_problem) if keyring.signer_problem else None
        if problem != self._reported:
            if problem:
                logger.error("%s (verification goes on; issuing and new signatures are refused)", problem)
            else:
                logger.warning("the signing key can sign again")
            self._reported = problem

    def invalidate(self) -> None:
        self._keyring = None


def init_app(app: Flask) -> None:
    """Needs the database (db.init_app) first."""
    settings = current_settings(app)
    app.extensions["keyring"] = KeyringCache(
        app.extensions["database"].session_factory, settings.KEYS_DIR, settings.KEYRING_REFRESH_SECONDS
    )


def current_keyring() -> Keyring:
    # In a request, reload through the request's own session: a request that holds locks (a
    # redemption's quota row) must never wait for a second pooled connection, or the requests
    # queued behind its locks, each holding a connection, starve it until the pool times out.
    return current_app.extensions["keyring"].get(get_session if has_request_context() else None)


def invalidate_keyring() -> None:
    current_app.extensions["keyring"].invalidate()

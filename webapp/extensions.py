"""Flask extensions shared by the blueprints: CSRF, sessions, rate limits."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer

csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address)


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookies, unchanged, except that the signing serializer is built once
    per secret key: Flask builds a new one on every request, with a cookie or without (most API
    calls have none), and it showed in the verify API's profile (docs/performance.md)."""

    def __init__(self) -> None:
        self._serializer: tuple[tuple[object, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        # The keys are the cache key: a changed SECRET_KEY or fallback list gets a new serializer.
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if self._serializer is None or self._serializer[0] != keys:
            self._serializer = (keys, super().get_signing_serializer(app))
        return self._serializer[1]


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.session_interface = SessionCookies()
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)

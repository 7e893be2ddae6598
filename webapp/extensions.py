"""Flask extensions shared by the blueprints: CSRF, sessions, rate limits, and the sign-in lock
counters kept in the rate limits' store."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from werkzeug.exceptions import TooManyRequests

csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address)

View = TypeVar("View", bound=Callable[..., Any])


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


HOT_PATH = "rate_limited_on_hot_path"


@functools.lru_cache(maxsize=32)
def _parsed(limit: str) -> RateLimitItem:
    return parse(limit)


def hot_path_limit(limit_of: Callable[[], str], scope: str) -> Callable[[View], View]:
    """A per-client rate limit for the verification hot path, counted in Flask-Limiter's own storage
    and strategy (one configuration: RATELIMIT_STORAGE_URI, Redis in production).

    Flask-Limiter's per-request machinery (two passes over its limit managers, then headers) cost a
    third of a verify request (docs/performance.md); these views skip it and make one `hit` instead.
    Over the limit: 429 with Retry-After, answered as JSON like any other error.
    """

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if limiter.enabled:
                item = _parsed(limit_of())
                identifiers = [current_app.config.get("RATELIMIT_KEY_PREFIX", ""), get_remote_address(), scope]
                if not limiter.limiter.hit(item, *filter(None, identifiers)):
                    reset = limiter.limiter.get_window_stats(item, *filter(None, identifiers)).reset_time
                    raise TooManyRequests(retry_after=max(1, math.ceil(reset - time.time())))
            return view(*args, **kwargs)

        setattr(wrapper, HOT_PATH, True)
        return wrapper  # type: ignore[return-value]

    return decorator


def _limited_on_hot_path() -> bool:
    """Flask-Limiter's request filter: the hot-path views count their own limit (above)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, HOT_PATH, False)


class AttemptCounters:
    """The sign-in lock counts (webapp/services/accounts/sign_in.py) in the store the rate limits use,
    RATELIMIT_STORAGE_URI: Redis in production, so every worker and instance counts together. They
    count whether rate limiting is on or off (a test switches limits off, never the locks)."""

    def __init__(self, storage: Storage, prefix: str) -> None:
        self.storage = storage
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def incr(self, key: str, expiry: int) -> int:
        return self.storage.incr(self._key(key), expiry)

    def get(self, key: str) -> int:
        return self.storage.get(self._key(key))

    def clear(self, key: str) -> None:
        self.storage.clear(self._key(key))


def attempt_counters() -> AttemptCounters:
    return current_app.extensions["attempt_counters"]


def init_app(app: Flask) -> None:
    app.extensions["attempt_counters"] = AttemptCounters(
        storage_from_string(app.config["RATELIMIT_STORAGE_URI"]), app.config.get("RATELIMIT_KEY_PREFIX", "")
    )
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.session_interface = SessionCookies()
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    limiter.request_filter(_limited_on_hot_path)

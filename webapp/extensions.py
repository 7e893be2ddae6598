"""Flask extensions shared by the blueprints: CSRF, sessions, rate limits, and the sign-in lock
counters kept in the rate limits' store.

When that store (Redis in production) is down or hung, the two kinds of limit part ways:
capacity limits (verification, the check by number, bundles, redemptions: `hot_path_limit`) count
in each worker's memory until Redis answers again, so cards keep being verified; the limits that
guard passwords (login, password change: Flask-Limiter's, and the sign-in lock counters) fail
closed, answered 503 `rate_limit_store_unavailable`, never open.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import RateLimiter
from redis.exceptions import RedisError
from werkzeug.exceptions import TooManyRequests

from webapp.services.errors import N_, DomainError

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
# What a store that cannot answer raises (limits wraps Redis's errors when asked to).
STORE_ERRORS = (RedisError, StorageError, OSError)
logger = logging.getLogger(__name__)


class RateLimitStoreUnavailable(DomainError):
    """The store of the limits that guard passwords cannot be reached: refused, never let through."""

    code = "rate_limit_store_unavailable"
    http_status = 503
    message = N_("Signing in is temporarily unavailable. Please try again in a few moments.")


@functools.lru_cache(maxsize=32)
def _parsed(limit: str) -> RateLimitItem:
    return parse(limit)


@dataclass
class FallbackStats:
    """What /readyz reports of the capacity limits' fallback in this worker."""

    in_memory: bool = False
    outages: int = 0
    requests_counted_in_memory: int = 0


class CapacityLimiter:
    """Counts capacity limits in the shared store, or in this worker's memory while the store
    cannot answer: the first failure is logged (once per outage, not per request) and counted, then
    the store is left alone for `retry_seconds` (every request would otherwise wait for its
    timeout), then tried again; the first success ends the outage, logged too."""

    def __init__(self, retry_seconds: int) -> None:
        self.retry_seconds = retry_seconds
        self.stats = FallbackStats()
        self._memory: RateLimiter | None = None
        self._retry_at = 0.0
        self._lock = threading.Lock()  # gthread workers or the development server's threads

    def _fallback(self, shared: RateLimiter) -> RateLimiter:
        if self._memory is None:
            self._memory = type(shared)(MemoryStorage())
        return self._memory

    def hit(self, shared: RateLimiter, item: RateLimitItem, *identifiers: str) -> tuple[bool, RateLimiter]:
        """Whether the request is within the limit, and the limiter that counted it."""
        if self.stats.in_memory and time.monotonic() < self._retry_at:
            return self._count_in_memory(shared, item, identifiers)
        try:
            allowed = shared.hit(item, *identifiers)
        except STORE_ERRORS as error:
            with self._lock:
                if not self.stats.in_memory:
                    self.stats.in_memory = True
                    self.stats.outages += 1
                    logger.error(
                        "rate-limit store unreachable (%s): capacity limits counted per worker until it answers",
                        type(error).__name__,
                    )
                self._retry_at = time.monotonic() + self.retry_seconds
            return self._count_in_memory(shared, item, identifiers)
        if self.stats.in_memory:
            with self._lock:
                self.stats.in_memory = False
                logger.warning("rate-limit store answers again: capacity limits shared again")
        return allowed, shared

    def _count_in_memory(
        self, shared: RateLimiter, item: RateLimitItem, identifiers: tuple[str, ...]
    ) -> tuple[bool, RateLimiter]:
        self.stats.requests_counted_in_memory += 1
        memory = self._fallback(shared)
        return memory.hit(item, *identifiers), memory


def capacity_limiter() -> CapacityLimiter:
    return current_app.extensions["capacity_limiter"]


def hot_path_limit(limit_of: Callable[[], str], scope: str) -> Callable[[View], View]:
    """A per-client capacity limit (the verification hot path and the other views that only guard
    capacity), counted in Flask-Limiter's own storage and strategy (one configuration:
    RATELIMIT_STORAGE_URI, Redis in production), or per worker while that store cannot answer.

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
                allowed, counted_by = capacity_limiter().hit(limiter.limiter, item, *filter(None, identifiers))
                if not allowed:
                    try:
                        reset = counted_by.get_window_stats(item, *filter(None, identifiers)).reset_time
                    except STORE_ERRORS:
                        reset = time.time() + 1  # the store failed between the two calls
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

    # They guard passwords: a store that cannot answer refuses the sign-in (fail closed).

    def incr(self, key: str, expiry: int) -> int:
        try:
            return self.storage.incr(self._key(key), expiry)
        except STORE_ERRORS:
            raise RateLimitStoreUnavailable() from None

    def get(self, key: str) -> int:
        try:
            return self.storage.get(self._key(key))
        except STORE_ERRORS:
            raise RateLimitStoreUnavailable() from None

    def clear(self, key: str) -> None:
        try:
            self.storage.clear(self._key(key))
        except STORE_ERRORS:
            raise RateLimitStoreUnavailable() from None


def attempt_counters() -> AttemptCounters:
    return current_app.extensions["attempt_counters"]


def store_options(app: Flask) -> dict[str, Any]:
    """Options of the Redis client: every call bounded (settings REDIS_*_TIMEOUT_SECONDS)."""
    if not app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        return {}
    return {
        "socket_connect_timeout": app.config["REDIS_CONNECT_TIMEOUT_SECONDS"],
        "socket_timeout": app.config["REDIS_SOCKET_TIMEOUT_SECONDS"],
    }


def _store_unavailable(error: Exception) -> Any:
    """Flask-Limiter's limits (login, password change) when the store fails: refused with a 503."""
    logger.error("rate-limit store unreachable on %s %s: %s", request.method, request.path, type(error).__name__)
    return current_app.handle_user_exception(RateLimitStoreUnavailable())


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", store_options(app))
    app.extensions["attempt_counters"] = AttemptCounters(
        storage_from_string(app.config["RATELIMIT_STORAGE_URI"], **app.config["RATELIMIT_STORAGE_OPTIONS"]),
        app.config.get("RATELIMIT_KEY_PREFIX", ""),
    )
    app.extensions["capacity_limiter"] = CapacityLimiter(app.config["REDIS_RETRY_SECONDS"])
    for error in STORE_ERRORS[:2]:
        app.register_error_handler(error, _store_unavailable)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.session_interface = SessionCookies()
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    limiter.request_filter(_limited_on_hot_path)

"""Flask extensions shared by the blueprints: CSRF, sessions, rate limits."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from limits import RateLimitItem, parse
from werkzeug.exceptions import TooManyRequests

csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address)

View = TypeVar("View", bound=Callable[..., Any])
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


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    limiter.request_filter(_limited_on_hot_path)

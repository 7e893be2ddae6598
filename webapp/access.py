"""Deny by default: every view needs a signed-in user unless it is marked @public.

Blueprints list their public views explicitly; anything new is private until someone decides.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from webapp.db import get_session
from webapp.extensions import login_manager
from webapp.models import Role, User

View = TypeVar("View", bound=Callable[..., Any])


def public(view: View) -> View:
    """Mark a view as open to anyone, signed in or not."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def roles_required(*roles: Role) -> Callable[[View], View]:
    """Let through only users with one of these roles (after the login check)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def require_login_unless_public() -> Response | None:
    if request.endpoint is None:
        return None  # 404 and 405 are answered by the error handlers
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "is_public", False) or request.endpoint == "static":
        return None
    if current_user.is_authenticated:
        return None
    if request.path.startswith("/api/"):
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def load_user(user_id: str) -> User | None:
    try:
        return get_session().get(User, int(user_id))
    except ValueError:
        return None


def init_app(app: Flask) -> None:
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    app.before_request(require_login_unless_public)

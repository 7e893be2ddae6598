"""Login (rate limited, safe `next` redirects), logout (POST with CSRF), account page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from webapp.access import public
from webapp.auth.forms import LoginForm, LogoutForm
from webapp.db import get_session
from webapp.extensions import limiter
from webapp.models import User
from webapp.settings import current_settings

blueprint = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_settings().LOGIN_RATE_LIMIT


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if not target:
        return url_for("auth.account")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("auth.account")
    return target


@blueprint.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Response | str | tuple[str, int]:
    form = LoginForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        user = get_session().scalar(select(User).where(func.lower(User.email) == email))
        if user is not None and user.is_enabled and user.check_password(form.password.data or ""):
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
        form.password.errors.append(_("Incorrect email or password."))
        return render_template("auth/login.html", form=form), 401
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@blueprint.post("/logout")
def logout() -> Response:
    if LogoutForm().validate_on_submit():
        logout_user()
    return redirect(url_for("public.home"))


@blueprint.get("/account")
def account() -> str:
    role_names = {
        "admin": _("National administrator"),
        "officer": _("Registry officer"),
        "partner_manager": _("Partner manager"),
        "partner_agent": _("Partner agent"),
        "artisan": _("Artisan"),
    }
    return render_template("auth/account.html", user=current_user, logout_form=LogoutForm(), role_names=role_names)

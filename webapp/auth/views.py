"""Login (rate limited, locked after repeated failures, safe `next` redirects), logout (POST with
CSRF), the account page and the change-password screen. Every sign-in, failure, lock and sign-out
is audited by the service (webapp/services/accounts/sign_in.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from webapp.access import landing_url, public
from webapp.auth.forms import ChangePasswordForm, LoginForm, LogoutForm
from webapp.db import get_session, keep_despite_refusal
from webapp.errors import translated_message
from webapp.extensions import attempt_counters, limiter
from webapp.models import User
from webapp.services.accounts.passwords import PasswordRefused
from webapp.services.accounts.sign_in import (
    Attempt,
    BadCredentials,
    CurrentPasswordWrong,
    LockRules,
    PasswordUnchanged,
    SignInRefused,
    change_password,
    record_sign_out,
    sign_in,
)
from webapp.settings import current_settings

blueprint = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_settings().LOGIN_RATE_LIMIT


def lock_rules() -> LockRules:
    settings = current_settings()
    return LockRules(
        account_failures=settings.SIGN_IN_LOCK_AFTER_FAILURES,
        client_failures=settings.SIGN_IN_CLIENT_LOCK_AFTER_FAILURES,
        minutes=settings.SIGN_IN_LOCK_MINUTES,
    )


def safe_next(target: str | None, default: str | None = None) -> str:
    """Only same-site paths: never an open redirect to another host. Otherwise `default`, or the
    person's account."""
    fallback = default or url_for("auth.account")
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


@blueprint.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Response | str | tuple[str, int]:
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400 if form.errors else 200
    attempt = Attempt(email=form.email.data or "", password=form.password.data or "", client=get_remote_address())
    try:
        user = sign_in(get_session(), attempt_counters(), lock_rules(), attempt)
    except SignInRefused as refusal:
        keep_despite_refusal()  # the failure count and its audit events stay
        refused = None
        if isinstance(refusal, BadCredentials):
            form.password.errors.append(translated_message(refusal))
        else:  # a lock: said above the form, whether the password was right or not
            refused = translated_message(refusal)
        response = make_response(render_template("auth/login.html", form=form, refused=refused), refusal.http_status)
        if refusal.http_status == 429:
            response.headers["Retry-After"] = str(lock_rules().seconds)
        return response
    login_user(user)
    # A safe `next` first (where the person was going), else their role's workspace.
    target = safe_next(request.args.get("next"), default=landing_url())
    if user.must_change_password:
        return redirect(url_for("auth.change_password", next=target))
    return redirect(target)


@blueprint.post("/logout")
def logout() -> Response:
    if LogoutForm().validate_on_submit():
        if isinstance(current_user._get_current_object(), User):
            record_sign_out(get_session(), current_user, get_remote_address())
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


@blueprint.route("/account/password", methods=["GET", "POST"], endpoint="change_password")
@limiter.limit(_login_limit, methods=["POST"])  # the current password is asked: guessing it is limited too
def change_password_view() -> Response | str | tuple[str, int]:
    """Choose one's own password: forced after an administrator's or manager's temporary one."""
    user = current_user._get_current_object()
    if not isinstance(user, User):
        abort(403)  # a partner system (API key) has no password
    form = ChangePasswordForm()
    settings = current_settings()
    if form.validate_on_submit():
        try:
            change_password(
                get_session(),
                user,
                current_password=form.current_password.data or "",
                new_password=form.new_password.data or "",
                min_length=settings.PASSWORD_MIN_LENGTH,
            )
        except CurrentPasswordWrong as refusal:
            form.current_password.errors.append(translated_message(refusal))
        except (PasswordRefused, PasswordUnchanged) as refusal:
            form.new_password.errors.append(translated_message(refusal))
        else:
            login_user(user)  # the session carries the new password's mark; other sessions end
            flash(_("Your password is changed."), "success")
            return redirect(safe_next(request.args.get("next")))
    status = 422 if form.is_submitted() else 200
    page = render_template(
        "auth/change_password.html",
        form=form,
        forced=user.must_change_password,
        min_length=settings.PASSWORD_MIN_LENGTH,
        logout_form=LogoutForm(),
    )
    return page, status

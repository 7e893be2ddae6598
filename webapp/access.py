"""Who may do what. Deny by default: every view needs a signed-in principal unless it is @public.

Two ways in, one `current_user`:
- people sign in with a password and get a session cookie (Flask-Login);
- partner systems send `Authorization: Bearer ca_<prefix>_<secret>` on each request (no cookie,
  no session, so no CSRF to check) and act as their organisation (`PartnerSystem`).
Blueprints restrict themselves to roles with `restrict_blueprint`; single views with
`roles_required`; queries to the person's region or organisation with `current_scope()`.
Anything new is private until someone decides.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Flask, abort, current_app, redirect, request, url_for
from flask_babel import LazyString, lazy_gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from webapp.db import get_session
from webapp.errors import wants_json
from webapp.extensions import login_manager
from webapp.models import PARTNER_ROLES, Role, User
from webapp.services.accounts.sign_in import PasswordChangeRequired
from webapp.services.audit import Actor
from webapp.services.partners.api_keys import InsufficientScope, authenticate_api_key
from webapp.services.scope import NATIONAL, NOTHING, Scope

View = TypeVar("View", bound=Callable[..., Any])

# The role of a partner's system authenticated by an API key (not a person: no User row).
PARTNER_SYSTEM = "partner_system"
BEARER = "Bearer "


@dataclass(frozen=True)
class PartnerSystem:
    """A partner organisation's server, authenticated by one of its API keys for this request."""

    api_key_id: int
    api_key_prefix: str
    organisation_id: int
    scopes: frozenset[str]
    role: str = PARTNER_SYSTEM
    region_code: None = None
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> None:
        return None  # never remembered in a session


def public(view: View) -> View:
    """Mark a view as open to anyone, signed in or not."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def _has_role(roles: Iterable[str]) -> bool:
    return current_user.is_authenticated and current_user.role in roles


def roles_required(*roles: str) -> Callable[[View], View]:
    """Let through only principals with one of these roles (after the login check).

    The view keeps the roles in `required_roles`, so the access matrix test can read who may call it.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not _has_role(roles):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def is_partner_caller() -> bool:
    """Partner staff signed in, or a partner system with an API key: someone who sees offers."""
    if "Authorization" not in request.headers and current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return False  # the public verify's usual caller: known anonymous without loading a user
    return current_user.is_authenticated and current_user.role in (*PARTNER_ROLES, PARTNER_SYSTEM)


def check_api_scope(scope: str) -> None:
    """A partner system's key must hold `scope` (people are governed by their role instead)."""
    if current_user.is_authenticated and current_user.role == PARTNER_SYSTEM and scope not in current_user.scopes:
        raise InsufficientScope(scope)


def partner_access(scope: str) -> Callable[[View], View]:
    """For partner staff (by role) and partner systems whose key holds `scope`; others get 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not is_partner_caller():
                abort(403)
            check_api_scope(scope)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def restrict_blueprint(blueprint: Blueprint, *roles: str) -> None:
    """Every non-public view of the blueprint is for these roles only (checked after sign-in)."""
    blueprint.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]  # read by may_use (the navigation)

    def check_role() -> None:
        view = current_app.view_functions.get(request.endpoint or "")
        if getattr(view, "is_public", False) or not current_user.is_authenticated:
            return  # public, or the app-wide check already answered (login redirect or 401)
        if current_user.role not in roles:
            abort(403)

    blueprint.before_request(check_role)


@dataclass(frozen=True)
class Space:
    """A workspace the navigation offers: its entry page and its name. Who may use it is not listed
    here: `may_use` reads it from the rules the blueprint and the view enforce."""

    key: str
    endpoint: str
    label: LazyString


# In the navigation's order. The artisan's card app is public (it works offline from the phone's
# copy) but its blueprint is the artisan's, so only artisans are offered it.
SPACES = (
    Space("card", "card.app_page", lazy_gettext("My card")),
    Space("scan", "scan.app_page", lazy_gettext("Scanner")),
    Space("partner", "partner.home", lazy_gettext("Partner portal")),
    Space("backoffice", "backoffice.home", lazy_gettext("Back office")),
    Space("admin", "admin.home", lazy_gettext("Administration")),
    Space("account", "auth.account", lazy_gettext("My account")),
)

# Where each role lands after signing in (without a `next`): its workspace. Partner staff land in the
# portal, which links the scanner (the scanner's page is kept offline, the same for everyone: it
# carries no one's navigation, so landing there would hide the other spaces).
LANDING = {
    Role.ARTISAN: "card",
    Role.ADMIN: "admin",
    Role.OFFICER: "backoffice",
    Role.PARTNER_MANAGER: "partner",
    Role.PARTNER_AGENT: "partner",
}


def may_use(space: Space) -> bool:
    """Whether the signed-in person would be let into the space's entry page: the same checks as
    `restrict_blueprint` and `roles_required`, so the navigation cannot promise a 403."""
    if not current_user.is_authenticated or current_user.role == PARTNER_SYSTEM:
        return False  # the navigation is for people; a partner system reads JSON
    view = current_app.view_functions.get(space.endpoint)
    if view is None:
        return False
    blueprint = current_app.blueprints.get(space.endpoint.rpartition(".")[0])
    allowed = getattr(blueprint, "allowed_roles", None)
    required = getattr(view, "required_roles", None)
    role = current_user.role
    return (allowed is None or role in allowed) and (required is None or role in required)


def usable_spaces() -> list[Space]:
    """Every space the signed-in person may use, in the navigation's order (none when signed out)."""
    return [space for space in SPACES if may_use(space)]


def landing_url() -> str:
    """The signed-in person's workspace: their role's, when they may use it, else their account."""
    key = LANDING.get(current_user.role)
    for space in usable_spaces():
        if space.key == key:
            return url_for(space.endpoint)
    return url_for("auth.account")


def current_actor() -> Actor:
    """The signed-in person as the audit trail names them ("user:12")."""
    return Actor(f"user:{current_user.id}", current_user.id)


def current_scope() -> Scope:
    """The records the current principal may see: an officer's region, a partner's organisation."""
    if not current_user.is_authenticated:
        return NOTHING
    if current_user.role == Role.ADMIN:
        return NATIONAL
    if current_user.role == Role.OFFICER:
        return Scope(region_code=current_user.region_code)
    if current_user.role in (*PARTNER_ROLES, PARTNER_SYSTEM):
        return Scope(organisation_id=current_user.organisation_id)
    return NOTHING  # artisans read their own card, not the register


# What a person with a temporary password may still reach (besides public pages): the screen where
# they choose their own, and signing out.
UNTIL_PASSWORD_CHANGED = frozenset({"auth.change_password", "auth.logout"})


def require_login_unless_public() -> Response | None:
    if request.endpoint is None:
        return None  # 404 and 405 are answered by the error handlers
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "is_public", False) or request.endpoint == "static":
        return None
    if current_user.is_authenticated:
        return require_own_password()
    if wants_json():
        abort(401)  # programs (the API, the offers' eligibility lists) get JSON, not a login page
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def require_own_password() -> Response | None:
    """Until a person replaces a temporary password, every page but the change-password screen leads
    there (programs get a JSON refusal)."""
    if not getattr(current_user, "must_change_password", False) or request.endpoint in UNTIL_PASSWORD_CHANGED:
        return None
    if wants_json():
        raise PasswordChangeRequired()
    return redirect(url_for("auth.change_password", next=request.full_path if request.query_string else request.path))


def load_user(session_id: str) -> User | None:
    """The person of a session cookie ("<id>.<password mark>", User.get_id): none when the account was
    disabled or its password changed since (an administrator's reset ends every session)."""
    user_id, _dot, fingerprint = session_id.partition(".")
    try:
        user = get_session().get(User, int(user_id))
    except ValueError:
        return None
    if user is None or not user.is_enabled or not hmac.compare_digest(user.password_fingerprint, fingerprint):
        return None
    return user


def load_partner_system(_request: Any) -> PartnerSystem | None:
    """Flask-Login's request loader: a Bearer API key stands for its organisation's system.

    A malformed, unknown or revoked key is refused outright (401), never silently treated as
    anonymous; a request without the header falls back to the session as usual.
    """
    header = request.headers.get("Authorization", "")
    if not header.startswith(BEARER):
        return None
    api_key = authenticate_api_key(get_session(), header[len(BEARER) :])
    return PartnerSystem(api_key.id, api_key.prefix, api_key.organisation_id, api_key.scope_set)


def init_app(app: Flask) -> None:
    login_manager.user_loader(load_user)
    login_manager.request_loader(load_partner_system)
    login_manager.login_view = "auth.login"
    app.before_request(require_login_unless_public)
    app.jinja_env.globals["usable_spaces"] = usable_spaces

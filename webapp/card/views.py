"""The card app's routes. The app's shell (page, offline page, manifest, service worker) is public and
holds no personal data, like the verifier app's: the phone keeps a copy and opens the card offline,
signed in or not. The card itself comes from /card/api/card, for the signed-in artisan only, and is
never cached by the worker (the app keeps it in IndexedDB). /card/activate is public: it is where an
artisan without an account gets one."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import time
from functools import lru_cache
from typing import Any

from flask import Blueprint, current_app, jsonify, make_response, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from webapp.access import public, restrict_blueprint
from webapp.card.forms import DEVICE_KEY_PATTERN, ActivationForm, CodeRequestForm, CodeSignInForm
from webapp.clock import MOROCCO
from webapp.db import get_session, keep_despite_refusal
from webapp.errors import translated_message
from webapp.extensions import attempt_counters, limiter
from webapp.i18n import current_language
from webapp.keyring import current_keyring
from webapp.models import Card, Role, utcnow
from webapp.pwa import THEME_COLOUR, manifest_response
from webapp.security import content_security_policy
from webapp.services.accounts.passwords import PasswordRefused
from webapp.services.accounts.sms import PhoneInvalid, sms_gateway
from webapp.services.accounts.sms_codes import (
    SmsCodeNotSent,
    SmsCodePolicy,
    SmsCodeRefused,
    SmsCodeSendCapped,
    send_sign_in_code,
    sign_in_with_code,
)
from webapp.services.cards.activation import ActivationPolicy, ActivationRefused
from webapp.services.cards.card_app import (
    ActivationRequest,
    BirthDateInvalid,
    activate_card,
    artisan_card,
    binding_is_current,
    parse_birth_date,
)
from webapp.services.cards.devices import current_device, holder_token
from webapp.services.cards.lifecycle import card_state
from webapp.services.cards.tokens import verify_page_prefix
from webapp.services.errors import N_, DomainError
from webapp.services.register.photos import photo_jpeg
from webapp.services.register.reference_data import region_name, trade_name
from webapp.settings import PROJECT_ROOT, current_settings

log = logging.getLogger(__name__)

blueprint = Blueprint("card", __name__, url_prefix="/card")
restrict_blueprint(blueprint, Role.ARTISAN)


# The service worker and the manifest are same-origin; nothing else beyond the strict policy.
CARD_PAGE_CSP = content_security_policy({"worker-src": ["'self'"], "manifest-src": ["'self'"]})

# The app shell, precached by the worker so the card and its live QR show with no network.
SHELL_STATIC_FILES = (
    "css/app.css",
    "css/card.css",
    "js/card/app.js",
    "js/card/store.js",
    "js/card/live-qr.js",
    "js/lib/idb.js",
    "js/lib/formats.js",
    "vendor/lean-qr/index.mjs",
    "vendor/@fontsource/noto-sans/noto-sans-latin-400-normal.woff2",
    "vendor/@fontsource/noto-sans/noto-sans-latin-700-normal.woff2",
    "icons/card/icon-192.png",
    "icons/card/icon-512.png",
    "icons/card/maskable-512.png",
)
# An Arabic reader's phone keeps the Arabic font too (the page asks its worker, as /scan does).
LANGUAGE_FONTS: dict[str, tuple[str, ...]] = {
    "ar": (
        "vendor/@fontsource/noto-sans-arabic/noto-sans-arabic-arabic-400-normal.woff2",
        "vendor/@fontsource/noto-sans-arabic/noto-sans-arabic-arabic-700-normal.woff2",
    ),
}
FONTS_FOLDER = "vendor/@fontsource/"

# Where the artisan's other screens will be (other slices of issue 15 add them under /card/): the
# app's menu lists those that exist, so a new screen appears once its route is registered.
MORE_SCREENS = (
    ("card_account.offers", N_("My offers")),
    ("card_account.checks", N_("Who checked my card")),
    ("card_requests.index", N_("Lost card, renewal, corrections")),
)


@lru_cache(maxsize=1)
def shell_version() -> str:
    """A digest of every precached file and template: any change installs a new worker and cache."""
    digest = hashlib.sha256()
    for name in (*SHELL_STATIC_FILES, *(font for fonts in LANGUAGE_FONTS.values() for font in fonts)):
        digest.update(name.encode())
        digest.update((PROJECT_ROOT / "static" / name).read_bytes())
    for name in ("card/app.html", "card/offline.html", "card/sw.js", "base.html"):
        digest.update((PROJECT_ROOT / "templates" / name).read_bytes())
    return digest.hexdigest()[:12]


def _with_card_csp(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CARD_PAGE_CSP
    return response


def activation_policy() -> ActivationPolicy:
    return ActivationPolicy.from_settings(current_settings())


def _login_limit() -> str:
    return current_settings().LOGIN_RATE_LIMIT


@blueprint.route("/activate", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])  # on top of the code's own per-card and per-client locks
def activate() -> Response | tuple[Response, int]:
    """Put a card on this phone: card number, code, birth date, a password chosen, optionally a phone
    number; the page's script adds the phone's new public key. A refusal is a form error."""
    form = ActivationForm()
    refused: str | None = None
    status = 200
    if form.is_submitted() and not form.validate():
        status = 400
    elif form.is_submitted():
        status, refused = _activate(form)
        if status == 303:
            return redirect(url_for("card.app_page"), 303)
    page = make_response(
        render_template(
            "card/activate.html",
            form=form,
            refused=refused,
            min_password_length=current_settings().PASSWORD_MIN_LENGTH,
        ),
        status,
    )
    if status == 429:
        page.headers["Retry-After"] = str(activation_policy().seconds)
    return _with_card_csp(page), status


def _activate(form: ActivationForm) -> tuple[int, str | None]:
    """Run the activation; (303, None) when done, else the status and a message above the form (or
    errors on the fields)."""
    try:
        birth_date = parse_birth_date(form.birth_date.data or "")
    except BirthDateInvalid as refusal:
        form.birth_date.errors = [translated_message(refusal)]
        return 422, None
    settings = current_settings()
    request = ActivationRequest(
        card_number=form.card_number.data or "",
        code=form.code.data or "",
        birth_date=birth_date,
        password=form.password.data or "",
        phone=form.phone.data,
        device_key=form.device_key.data or "",
        client=get_remote_address(),
    )
    session = get_session()
    try:
        account = activate_card(
            session,
            request,
            counters=attempt_counters(),
            policy=activation_policy(),
            min_password_length=settings.PASSWORD_MIN_LENGTH,
        )
    except ActivationRefused as refusal:
        keep_despite_refusal()  # the failure count and its audit event stay; nothing else was written
        return refusal.http_status, translated_message(refusal)
    except PasswordRefused as refusal:
        form.password.errors = [translated_message(refusal)]
        return refusal.http_status, None
    except PhoneInvalid as refusal:
        form.phone.errors = [translated_message(refusal)]
        return refusal.http_status, None
    except DomainError as refusal:  # a disabled account, a device key not on P-256
        return refusal.http_status, translated_message(refusal)
    # A phone app: the sign-in lasts (the remember cookie), as the card must refresh without a
    # password typed each time; a password change or a new activation ends it (User.get_id).
    login_user(account, remember=True)
    if account.phone:
        try:
            sms_gateway(settings.SMS_GATEWAY).send(
                account.phone,
                _("Carte Artisan: your card is now on your phone. Sign-in codes will come to this number."),
            )
        except Exception:  # the card is activated; a lost confirmation text must not undo it
            log.exception("activation SMS not sent")
    return 303, None


# The card number typed on the code request page, kept for the code page (the session cookie is
# signed; a card number is printed on the card, no secret).
CODE_CARD_KEY = "sms_code_card"


def sms_code_policy() -> SmsCodePolicy:
    return SmsCodePolicy.from_settings(current_settings())


def _sms_text(code: str) -> str:
    """The text message, in the language of the page the artisan asked from."""
    return _(
        "Carte Artisan: your sign-in code is %(code)s. It is valid for 10 minutes. Never give it to anyone.", code=code
    )


@blueprint.route("/sign-in-code", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])  # per client, on top of the service's cap per card
def request_code() -> Response | tuple[Response, int]:
    """Ask for a sign-in code by SMS: the card number. The same answer whether or not the card's
    holder has an account with a phone (the code page says so)."""
    form = CodeRequestForm()
    refused: str | None = None
    status = 400 if form.is_submitted() and not form.validate() else 200
    if form.is_submitted() and status == 200:
        card_number = form.card_number.data or ""
        try:
            send_sign_in_code(
                get_session(),
                card_number,
                get_remote_address(),
                gateway=sms_gateway(current_settings().SMS_GATEWAY),
                compose=_sms_text,
                counters=attempt_counters(),
                policy=sms_code_policy(),
            )
        except SmsCodeSendCapped as refusal:
            keep_despite_refusal()  # the refusal's audit event stays
            status, refused = refusal.http_status, translated_message(refusal)
        except SmsCodeNotSent as refusal:  # nothing kept: the code was not sent
            log.exception("sign-in code SMS not sent")
            status, refused = refusal.http_status, translated_message(refusal)
        else:
            cookie_session[CODE_CARD_KEY] = card_number[:30]
            return redirect(url_for("card.enter_code"), 303)
    page = make_response(render_template("card/request_code.html", form=form, refused=refused), status)
    if status == 429:
        page.headers["Retry-After"] = "3600"
    return _with_card_csp(page), status


@blueprint.route("/sign-in-code/enter", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])  # per client, on top of the service's lock per account
def enter_code() -> Response | tuple[Response, int]:
    """Type the code received by SMS; signed in, the artisan lands on the card app."""
    card_number = cookie_session.get(CODE_CARD_KEY)
    if not isinstance(card_number, str):
        return redirect(url_for("card.request_code"), 303)
    form = CodeSignInForm()
    refused: str | None = None
    status = 400 if form.is_submitted() and not form.validate() else 200
    if form.is_submitted() and status == 200:
        try:
            account = sign_in_with_code(
                get_session(),
                card_number,
                form.code.data or "",
                get_remote_address(),
                counters=attempt_counters(),
                policy=sms_code_policy(),
            )
        except SmsCodeRefused as refusal:
            keep_despite_refusal()  # the failure count and its audit events stay
            status, refused = refusal.http_status, translated_message(refusal)
        else:
            cookie_session.pop(CODE_CARD_KEY, None)
            login_user(account, remember=True)  # as after activation: a phone app stays signed in
            return redirect(url_for("card.app_page"), 303)
    page = make_response(
        render_template("card/enter_code.html", form=form, refused=refused, card_number=card_number), status
    )
    if status == 429:
        page.headers["Retry-After"] = str(sms_code_policy().lock_minutes * 60)
    return _with_card_csp(page), status


@blueprint.get("/")
@public
def app_page() -> Response:
    """The app. The same page for everyone (its worker keeps a copy); the card comes from the API."""
    more = [(url_for(endpoint), _(label)) for endpoint, label in MORE_SCREENS if _has_endpoint(endpoint)]
    response = make_response(
        render_template("card/app.html", theme_colour=THEME_COLOUR, more_screens=more, qr_prefix=_qr_prefix())
    )
    response.cache_control.no_cache = True
    response.vary.add("Cookie")
    return _with_card_csp(response)


def _has_endpoint(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def _qr_prefix() -> str:
    return verify_page_prefix(current_settings().PUBLIC_BASE_URL)


@blueprint.get("/offline")
@public
def offline_page() -> Response:
    """What the worker shows for a page of the app it cannot fetch and has no copy of."""
    response = make_response(render_template("card/offline.html", theme_colour=THEME_COLOUR))
    response.cache_control.no_cache = True
    return response


@blueprint.get("/manifest.webmanifest")
@public
def manifest() -> Response:
    return manifest_response(
        "card.app_page",
        "card",
        name=_("Carte Artisan — my card"),
        short_name=_("My card"),
        description=_("Your artisan card on your phone, with a live QR code, also without network."),
    )


@blueprint.get("/sw.js")
@public
def service_worker() -> Response:
    """The worker, from the root of its scope (/card/): it controls the card app and nothing else."""
    static = [url_for("static", filename=name) for name in SHELL_STATIC_FILES]
    body = render_template(
        "card/sw.js",
        version=shell_version(),
        precache=json.dumps([url_for("card.app_page"), url_for("card.offline_page"), *static]),
        app_page=json.dumps(url_for("card.app_page")),
        offline_page=json.dumps(url_for("card.offline_page")),
        language_fonts=json.dumps(
            {lang: [url_for("static", filename=font) for font in fonts] for lang, fonts in LANGUAGE_FONTS.items()}
        ),
        fonts_prefix=json.dumps(url_for("static", filename=FONTS_FOLDER)),
    )
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache, max-age=0"
    return response


# What to do, by the card's state, as the card screen says it under the status.
STATE_ADVICE = {
    "active": None,
    "suspended": N_("Your card is suspended: partners will refuse it. Contact your chamber of crafts to settle it."),
    "revoked": N_("This card was revoked and is no longer valid. Ask your chamber of crafts for a new card."),
    "expired": N_("Your card has expired. Ask your chamber of crafts to renew it."),
}
STATE_LABELS = {
    "active": N_("Valid"),
    "suspended": N_("Suspended"),
    "revoked": N_("Revoked"),
    "expired": N_("Expired"),
}


@blueprint.get("/api/card")
def card_api() -> Response:
    """The signed-in artisan's card face, the holder-bound token of the card's current phone binding
    (the app checks it holds that binding's key: otherwise the card is on another phone) and the
    server's clock (the app measures its offset for the live QR's window). Never cached."""
    session = get_session()
    card = artisan_card(session, current_user)
    now = utcnow()
    device = current_device(session, card)
    # A holder-bound token only for a card a verifier accepts today: a suspended or expired card's
    # face says so and what to do, and its QR would only be refused.
    usable = device is not None and card_state(card, now) == "active"
    token = holder_token(session, card, device, current_keyring().require_signer(), now) if usable else None
    answer = {
        "server_time": time.time(),
        "card": _card_face(card, now),
        "device": None if device is None else {"key": device.public_key, "bound_at": device.bound_at.isoformat()},
        "token": token,
        "qr_prefix": _qr_prefix(),
        "activate_url": url_for("card.activate"),
    }
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Cookie")
    return response


@blueprint.get("/api/binding")
@public
def binding_api() -> Response:
    """Whether this phone's key (?key=, 87 characters) is still its card's current binding: what a
    phone signed out by a re-activation elsewhere asks, to stop showing a QR that no longer verifies."""
    key = request.args.get("key", "")
    current = binding_is_current(get_session(), key) if re.fullmatch(DEVICE_KEY_PATTERN, key) else None
    response = jsonify(current=current)
    response.headers["Cache-Control"] = "no-store"
    return response


def _card_face(card: Card, now: Any) -> dict[str, Any]:
    language = current_language()
    artisan = card.artisan
    state = card_state(card, now)
    stored = photo_jpeg(get_session(), artisan.id)
    photo = stored.jpeg if stored is not None else None
    return {
        "number": card.number,
        "name_latin": artisan.name_latin,
        "name_ar": artisan.name_ar,
        "trade": trade_name(artisan.trade_code, language),
        "region": region_name(artisan.region_code, language),
        "expires_on": card.expires_at.astimezone(MOROCCO).date().isoformat(),
        "state": state,
        "state_label": _(STATE_LABELS[state]),
        "advice": _(STATE_ADVICE[state]) if STATE_ADVICE[state] else None,
        # Inline, so the app keeps it with the card for offline use (img-src allows data:).
        "photo": "data:image/jpeg;base64," + base64.b64encode(photo).decode() if photo else None,
        "language": language,
    }

"""Public views: home, the verdict page /v, JWKS and the signed status list."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import lru_cache

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from webapp.access import public
from webapp.db import get_session
from webapp.extensions import hot_path_limit
from webapp.faults import long_request
from webapp.i18n import LANGUAGES
from webapp.keyring import current_keyring
from webapp.models import PARTNER_ROLES, utcnow
from webapp.readiness import readiness
from webapp.scan.views import LANGUAGE_FONTS
from webapp.services.audit import checkpoints
from webapp.services.cards.holders import card_verdict_by_number
from webapp.services.cards.lifecycle import CardNotFound
from webapp.services.cards.numbers import card_number_problem, normalize_card_number
from webapp.services.trust.status_list import LIST_ID, TOKEN_TYPE, current_status_list
from webapp.settings import PROJECT_ROOT, current_settings
from webapp.verdicts import PAGE_STATES, PRESENTATION_TEXTS, VERDICT_TEXTS, card_face, texts_in_every_language

blueprint = Blueprint("public", __name__)

ARABIC_FONTS = LANGUAGE_FONTS["ar"]  # the verifier app's choice of the Arabic reader's fonts


@blueprint.get("/")
@public
def home() -> str:
    return render_template("public/home.html")


@blueprint.get("/v")
@public
def verdict_page() -> str:
    """The page a printed QR code opens; its script reads the token from the URL fragment and verifies
    it with the public trust bundle (static/js/lib/card-verifier.js), then asks the verify API."""
    return render_template(
        "public/verdict.html",
        verdict_texts=VERDICT_TEXTS | PAGE_STATES | PRESENTATION_TEXTS,
        public_base_url=current_settings().PUBLIC_BASE_URL,
        shows_photos=_is_partner_staff(),
    )


# The verdict page's shell, kept by its service worker (/verdict-sw.js) so a page visited once opens
# offline: its stylesheet, scripts and Latin fonts (a language's other fonts on the page's request).
VERDICT_PAGE_FILES = (
    "css/app.css",
    "js/verdict-page.js",
    "js/verdict-trust.js",
    "js/lib/card-verifier.js",
    "js/lib/verdict-look.js",
    "js/lib/formats.js",
    "js/lib/idb.js",
    "vendor/@fontsource/noto-sans/noto-sans-latin-400-normal.woff2",
    "vendor/@fontsource/noto-sans/noto-sans-latin-700-normal.woff2",
)
VERDICT_PAGE_TEMPLATES = ("public/verdict.html", "public/verdict_sw.js", "base.html", "_macros/verdict.html")


@lru_cache(maxsize=1)
def verdict_page_version() -> str:
    """A digest of the page's files: when one changes, the worker's script changes and browsers
    install it, which fills a new cache."""
    digest = hashlib.sha256()
    files = [PROJECT_ROOT / "static" / name for name in (*VERDICT_PAGE_FILES, *ARABIC_FONTS)]
    for path in (*files, *(PROJECT_ROOT / "templates" / name for name in VERDICT_PAGE_TEMPLATES)):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@blueprint.get("/verdict-sw.js")
@public
def verdict_service_worker() -> Response:
    """The verdict page's service worker, registered with the scope /v. Never cached by HTTP:
    browsers check it for a new version each time the page opens."""
    page = url_for("public.verdict_page")
    body = render_template(
        "public/verdict_sw.js",
        version=verdict_page_version(),
        page=json.dumps(page),
        precache=json.dumps([url_for("static", filename=name) for name in VERDICT_PAGE_FILES]),
        language_fonts=json.dumps({"ar": [url_for("static", filename=font) for font in ARABIC_FONTS]}),
        languages=json.dumps(list(LANGUAGES)),
    )
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache, max-age=0"
    return response


def _check_limit() -> str:
    return current_settings().VERIFY_RATE_LIMIT


@blueprint.get("/check")
@public
@hot_path_limit(_check_limit, scope="check")  # capacity only: per worker while Redis is down
def check_by_number() -> tuple[str, int]:
    """A card checked by its number, for a damaged code or no camera: the register's verdict now,
    with what the card's face shows (the number proves nothing by itself: no more is disclosed)."""
    if "card" not in request.args:
        return render_template("public/check.html", typed=""), 200  # the empty form
    typed = request.args["card"].strip()[:40]
    number = normalize_card_number(typed)
    if number is None:  # said on the form: nothing typed, a typo (check character), or not a number
        problem = card_number_problem(typed) or "format"
        return render_template("public/check.html", typed=typed, problem=problem), 422
    try:
        found = card_verdict_by_number(get_session(), number, utcnow())
    except CardNotFound:
        return render_template("public/check.html", typed=typed, problem="unknown"), 404
    return render_template(
        "public/check.html",
        typed=typed,
        found=found,
        verdict_text=VERDICT_TEXTS[found.verdict],
        **card_face(found, with_photo=_is_partner_staff()),
    ), 200


def _is_partner_staff() -> bool:
    """Partner staff signed in see the holder's photo beside a verdict (never the public)."""
    return current_user.is_authenticated and current_user.role in PARTNER_ROLES


@blueprint.get("/verdict-texts.json")
@public
def verdict_texts() -> Response:
    """Every verdict's title and message in fr, ar and en, for verifiers that work offline."""
    return _shareable(jsonify(texts_in_every_language()), current_settings().TRUST_MAX_AGE_SECONDS)


@blueprint.get("/healthz")
@public
def health() -> Response:
    """Liveness: the worker answers. Touches no store (a restart would not mend a database)."""
    return Response("ok", mimetype="text/plain")


@blueprint.get("/readyz")
@public
def ready() -> Response:
    """Readiness: 200 when the database, Redis (when configured) and a verifying key are there, else
    503; the JSON body says what each check found (webapp/readiness.py)."""
    is_ready, report = readiness()
    response = jsonify(report)
    response.status_code = 200 if is_ready else 503
    response.cache_control.no_store = True
    return response


@blueprint.get("/.well-known/jwks.json")
@public
def jwks() -> Response:
    """Every key that verifies cards: the active key, rotated keys, and keys published ahead of use."""
    response = jsonify(keys=current_keyring().published_jwks)
    return _shareable(response, current_settings().TRUST_MAX_AGE_SECONDS)


@blueprint.get("/statuslists/<int:list_id>")
@long_request  # signed again when stale: 622,000 cards outlast the short deadline (a job in issue 16)
@public
def status_list(list_id: int) -> Response:
    """The signed status list (application/statuslist+jwt), with ETag and max-age."""
    if list_id != LIST_ID:
        return _shareable(jsonify(error="not_found"), 60, status=404)
    settings = current_settings()
    signed = current_status_list(
        get_session(),
        current_keyring().require_signer,  # asked only if the list must be signed again
        subject=f"{settings.PUBLIC_BASE_URL}/statuslists/{LIST_ID}",
        validity=timedelta(seconds=settings.STATUS_LIST_VALIDITY_SECONDS),
        ttl_seconds=settings.STATUS_LIST_MAX_AGE_SECONDS,  # the token's ttl is the HTTP max-age (rule S6)
    )
    etag = hashlib.sha256(signed.token.encode("ascii")).hexdigest()[:32]
    response = Response(signed.token, mimetype=f"application/{TOKEN_TYPE}")
    response.set_etag(etag)
    response.last_modified = signed.signed_at
    response = response.make_conditional(request)
    return _shareable(response, settings.STATUS_LIST_MAX_AGE_SECONDS)


# Checkpoints change every few minutes: a short cache lifetime keeps auditors near the head.
CHECKPOINT_MAX_AGE_SECONDS = 60


@blueprint.get("/audit/checkpoints/latest")
@public
def latest_audit_checkpoint() -> Response:
    """The latest signed checkpoint of the audit trail (docs/audit-trail.md), for outside auditors."""
    latest = checkpoints.latest_checkpoint(get_session())
    if latest is None:
        return _shareable(jsonify(error="not_found"), CHECKPOINT_MAX_AGE_SECONDS, status=404)
    return _shareable(jsonify(checkpoints.published(latest)), CHECKPOINT_MAX_AGE_SECONDS)


@blueprint.get("/audit/checkpoints/<int:number>")
@public
def audit_checkpoint(number: int) -> Response:
    """One signed checkpoint by its number; it never changes, so it may be kept a day."""
    try:
        checkpoint = checkpoints.get_checkpoint(get_session(), number)
    except checkpoints.CheckpointNotFound:
        return _shareable(jsonify(error="not_found"), CHECKPOINT_MAX_AGE_SECONDS, status=404)
    return _shareable(jsonify(checkpoints.published(checkpoint)), 86_400)


def _shareable(response: Response, max_age: int, status: int | None = None) -> Response:
    """Cacheable by anyone, readable from any origin (verifier apps of partners)."""
    if status is not None:
        response.status_code = status
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response

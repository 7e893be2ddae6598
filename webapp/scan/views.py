"""The verifier app's routes: the app page, its offline page, its manifest, its service worker
(served from the root of its own scope: a worker controls only the paths below its own URL) and
who is using it. Every route is public: the app works signed out (validity and name only) and
learns from /scan/whoami whether the person is partner staff."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from babel import Locale
from flask import Blueprint, jsonify, make_response, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from webapp.access import PARTNER_SYSTEM, public
from webapp.i18n import current_language
from webapp.models import PARTNER_ROLES
from webapp.pwa import THEME_COLOUR, manifest_response
from webapp.security import content_security_policy
from webapp.services.partners.offer_fields import COUNTRY_CODES
from webapp.services.register.reference_data import REGION_CODES, TRADE_CODES, region_name, trade_name
from webapp.settings import PROJECT_ROOT, current_settings
from webapp.verdicts import texts_in_every_language

blueprint = Blueprint("scan", __name__, url_prefix="/scan")

# The theme colour of the manifest and the page: --accent in static/css/app.css.

# What the app page needs beyond the strict policy, and nothing more: the QR decoder's WebAssembly
# (the ponyfill compiles it), its service worker, and its manifest (same origin).
SCAN_PAGE_CSP = content_security_policy(
    {"script-src": ["'wasm-unsafe-eval'"], "worker-src": ["'self'"], "manifest-src": ["'self'"]}
)

# The static files of the app shell, precached by the service worker so the app opens and scans with
# no network: stylesheets, scripts, the decoder and its wasm, the Latin font, the icons. Kept lean
# (bench/scan.py measures it, target 100 KB gzip without the wasm): the fonts of other scripts are
# in LANGUAGE_FONTS below.
SHELL_STATIC_FILES = (
    "css/app.css",
    "css/scan.css",
    "js/scan/app.js",
    "js/scan/camera.js",
    "js/scan/outbox.js",
    "js/scan/store.js",
    "js/scan/trust.js",
    "js/scan/verdict-screen.js",
    "js/lib/card-verifier.js",
    "js/lib/verdict-look.js",
    "js/lib/formats.js",
    "js/lib/qr-decoder.js",
    "js/lib/idb.js",
    "js/lib/offer-fields.js",
    "vendor/barcode-detector/ponyfill.js",
    "vendor/barcode-detector/zxing-exported.js",
    "vendor/zxing-wasm/zxing_reader.wasm",
    "vendor/@fontsource/noto-sans/noto-sans-latin-400-normal.woff2",
    "vendor/@fontsource/noto-sans/noto-sans-latin-700-normal.woff2",
    "icons/scan/icon-192.png",
    "icons/scan/icon-512.png",
    "icons/scan/maskable-512.png",
)


# Fonts a language's reader needs offline beyond the shell: the page asks its worker to keep them
# once it knows its language (an Arabic reader's phone keeps the Arabic font; a French reader's does
# not carry 100 KB of glyphs it never shows). Any other font file (Latin Extended, for a rare name)
# is kept by the worker the first time a page uses it.
LANGUAGE_FONTS: dict[str, tuple[str, ...]] = {
    "ar": (
        "vendor/@fontsource/noto-sans-arabic/noto-sans-arabic-arabic-400-normal.woff2",
        "vendor/@fontsource/noto-sans-arabic/noto-sans-arabic-arabic-700-normal.woff2",
    ),
}
FONTS_FOLDER = "vendor/@fontsource/"


@lru_cache(maxsize=1)
def shell_version() -> str:
    """A digest of every precached file and of the verdict texts: when any of them changes, the
    worker's script changes, so browsers install the new worker, which fills a new cache."""
    digest = hashlib.sha256()
    for name in (*SHELL_STATIC_FILES, *(font for fonts in LANGUAGE_FONTS.values() for font in fonts)):
        digest.update(name.encode())
        digest.update((PROJECT_ROOT / "static" / name).read_bytes())
    for name in ("scan/app.html", "scan/offline.html", "scan/sw.js", "base.html"):
        digest.update((PROJECT_ROOT / "templates" / name).read_bytes())
    digest.update(json.dumps(texts_in_every_language(), sort_keys=True).encode())
    return digest.hexdigest()[:12]


def _place_names(language: str) -> dict[str, dict[str, str | None]]:
    """Trade and region names in the page's language: the phone shows them for a card it verified
    offline (the token holds only the codes)."""
    return {
        "trades": {code: trade_name(code, language) for code in sorted(TRADE_CODES)},
        "regions": {code: region_name(code, language) for code in sorted(REGION_CODES)},
    }


def _country_names(language: str) -> dict[str, str]:
    """The countries a redemption's country field accepts, named in the page's language: the agent
    picks or types a name ("France"), the phone sends its code (FR)."""
    territories = Locale.parse(language).territories
    return {code: territories.get(code, code) for code in sorted(COUNTRY_CODES)}


def _with_scan_csp(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = SCAN_PAGE_CSP
    return response


@blueprint.get("/")
@public
def app_page() -> Response:
    """The app. The same page for everyone (the service worker keeps a copy): who is signed in is
    asked from /scan/whoami by the script, never rendered into the page."""
    response = make_response(
        render_template(
            "scan/app.html",
            theme_colour=THEME_COLOUR,
            public_base_url=current_settings().PUBLIC_BASE_URL,
            place_names=_place_names(current_language()),
            country_names=_country_names(current_language()),
        )
    )
    # Revalidated each time online; the worker's copy serves it offline.
    response.cache_control.no_cache = True
    response.vary.add("Cookie")
    return _with_scan_csp(response)


@blueprint.get("/offline")
@public
def offline_page() -> Response:
    """What the worker shows for a page of the app it cannot fetch and has no copy of."""
    response = make_response(render_template("scan/offline.html", theme_colour=THEME_COLOUR))
    response.cache_control.no_cache = True
    return response


@blueprint.get("/manifest.webmanifest")
@public
def manifest() -> Response:
    """The web app manifest, named in the page's language (the page links it with ?lang=)."""
    return manifest_response(
        "scan.app_page",
        "scan",
        name=_("Carte Artisan — card verifier"),
        short_name=_("Verify card"),
        description=_("Scan an artisan's card and see whether it is valid, also without network."),
    )


@blueprint.get("/sw.js")
@public
def service_worker() -> Response:
    """The service worker, from the root of the app's scope (/scan/), so it controls /scan/ and
    nothing else (no Service-Worker-Allowed header needed). Never cached by HTTP: browsers check it
    for a new version each time the app opens."""
    static = [url_for("static", filename=name) for name in SHELL_STATIC_FILES]
    pages = [url_for("scan.app_page"), url_for("scan.offline_page")]
    body = render_template(
        "scan/sw.js",
        version=shell_version(),
        precache=json.dumps([*pages, url_for("public.verdict_texts"), *static]),
        app_page=json.dumps(url_for("scan.app_page")),
        offline_page=json.dumps(url_for("scan.offline_page")),
        language_fonts=json.dumps(
            {
                language: [url_for("static", filename=font) for font in fonts]
                for language, fonts in LANGUAGE_FONTS.items()
            }
        ),
        fonts_prefix=json.dumps(url_for("static", filename=FONTS_FOLDER)),
    )
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache, max-age=0"
    return response


@blueprint.get("/whoami")
@public
def who_am_i() -> Response:
    """Who uses the app: signed in or not, and whether they are partner staff (who see their offers
    and record redemptions). Never cached: signing in or out must show at once."""
    answer: dict[str, Any] = {
        "signed_in": bool(current_user.is_authenticated),
        "partner": False,
        "login_url": url_for("auth.login", next=url_for("scan.app_page")),
    }
    if current_user.is_authenticated and current_user.role != PARTNER_SYSTEM:
        answer["name"] = current_user.display_name
        answer["account_url"] = url_for("auth.account")
        if current_user.role in PARTNER_ROLES and current_user.organisation is not None:
            answer["partner"] = True
            answer["organisation"] = {
                "name": current_user.organisation.name,
                "kind": current_user.organisation.kind_code,
            }
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Cookie")
    return response

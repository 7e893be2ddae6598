"""The verifier app's Flask side: its page and CSP, manifest, service worker, offline page, whoami."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.fixtures.auth import AuthActions
from tests.fixtures.support import missing_static_imports
from webapp.models import Role
from webapp.scan.views import SHELL_STATIC_FILES, THEME_COLOUR
from webapp.security import CONTENT_SECURITY_POLICY
from webapp.settings import PROJECT_ROOT

APP_CSS = (PROJECT_ROOT / "static" / "css" / "app.css").read_text(encoding="utf-8")
MANIFEST_NAMES = {
    "fr": "Carte Artisan — vérification des cartes",
    "ar": "بطاقة الصانع — التحقق من البطاقات",
    "en": "Carte Artisan — card verifier",
}


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def precache_of(client: FlaskClient) -> list[str]:
    body = client.get("/scan/sw.js").get_data(as_text=True)
    match = re.search(r"^const PRECACHE = (\[.*\]);$", body, re.MULTILINE)
    assert match, body[:500]
    return json.loads(match.group(1))


@pytest.mark.parametrize(
    "path", ["/scan/", "/scan/offline", "/scan/manifest.webmanifest", "/scan/sw.js", "/scan/whoami"]
)
def test_every_route_of_the_app_is_open_signed_out(client: FlaskClient, path: str) -> None:
    """The app works signed out: no route sends to the login page."""
    response = client.get(path)

    assert response.status_code == 200


def test_the_app_page_widens_its_csp_for_the_decoder_worker_and_manifest_only(client: FlaskClient) -> None:
    """wasm-unsafe-eval, worker-src 'self' and manifest-src 'self' on /scan/; the rest is the strict policy."""
    response = client.get("/scan/")

    assert response.mimetype == "text/html"
    policy = directives(response.headers["Content-Security-Policy"])
    strict = directives(CONTENT_SECURITY_POLICY)
    assert policy["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert policy["worker-src"] == ["'self'"]
    assert policy["manifest-src"] == ["'self'"]
    assert {
        name: sources for name, sources in policy.items() if name not in ("script-src", "worker-src", "manifest-src")
    } == {name: sources for name, sources in strict.items() if name != "script-src"}


@pytest.mark.parametrize("path", ["/", "/scan/offline", "/login"])
def test_other_pages_keep_the_strict_csp(client: FlaskClient, path: str) -> None:
    """Only the scanning page may run WebAssembly."""
    assert client.get(path).headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_the_app_page_links_its_manifest_in_its_language_and_holds_no_personal_data(
    client: FlaskClient, auth: AuthActions, make_user: Any
) -> None:
    """The page (which the worker keeps for offline use) is the same signed in: who it is comes from whoami."""
    anonymous = client.get("/scan/?lang=ar").get_data(as_text=True)
    user = make_user(Role.PARTNER_AGENT, display_name="Agent Zineb")
    auth.login(user)
    signed_in = client.get("/scan/?lang=ar").get_data(as_text=True)

    assert '<link rel="manifest" href="/scan/manifest.webmanifest?lang=ar">' in anonymous
    assert '<html lang="ar" dir="rtl">' in anonymous
    assert "Agent Zineb" not in signed_in and user.email not in signed_in
    strip_csrf = re.compile(r'name="csrf_token"[^>]*>')
    assert strip_csrf.sub("", signed_in) == strip_csrf.sub("", anonymous)


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_the_manifest_is_named_in_the_page_language(client: FlaskClient, language: str) -> None:
    """Name, lang and dir follow ?lang=; installable: standalone, start URL and scope /scan/."""
    response = client.get(f"/scan/manifest.webmanifest?lang={language}")
    manifest = response.get_json(force=True)

    assert response.mimetype == "application/manifest+json"
    assert manifest["name"] == MANIFEST_NAMES[language]
    assert manifest["lang"] == language
    assert manifest["dir"] == ("rtl" if language == "ar" else "ltr")
    assert (manifest["display"], manifest["start_url"], manifest["scope"]) == ("standalone", "/scan/", "/scan/")


def test_the_manifest_has_icons_with_a_maskable_one_and_the_theme_colour_of_the_tokens(client: FlaskClient) -> None:
    """192 and 512 px icons that exist, one maskable; theme colour = --accent of app.css."""
    manifest = client.get("/scan/manifest.webmanifest").get_json(force=True)

    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    assert [icon["purpose"] for icon in manifest["icons"] if "purpose" in icon] == ["maskable"]
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.mimetype == "image/png"
        image.close()
    assert f"--accent: {THEME_COLOUR};" in APP_CSS
    assert manifest["theme_color"] == THEME_COLOUR


def test_the_worker_is_served_from_the_root_of_its_scope_and_always_revalidated(client: FlaskClient) -> None:
    """/scan/sw.js: JavaScript, no-cache (browsers see a new version at once), no Service-Worker-Allowed."""
    response = client.get("/scan/sw.js")

    assert response.mimetype == "text/javascript"
    assert "no-cache" in response.headers["Cache-Control"]
    assert "Service-Worker-Allowed" not in response.headers
    body = response.get_data(as_text=True)
    assert re.search(r'^const VERSION = "[0-9a-f]{12}";$', body, re.MULTILINE)
    assert 'const CACHE_PREFIX = "carte-scan-shell-";' in body


def test_the_worker_precaches_the_shell_the_decoder_wasm_and_the_latin_font(client: FlaskClient) -> None:
    """The app page, the offline page, the verdict texts, every shell file; each answers 200. The
    Latin font (regular, bold) is in the shell; other scripts' fonts are not (kept per language)."""
    precache = precache_of(client)

    assert precache[:3] == ["/scan/", "/scan/offline", "/verdict-texts.json"]
    assert precache[3:] == [f"/static/{name}" for name in SHELL_STATIC_FILES]
    assert "/static/vendor/zxing-wasm/zxing_reader.wasm" in precache
    fonts = [url for url in precache if url.endswith(".woff2")]
    assert fonts == [
        f"/static/vendor/@fontsource/noto-sans/noto-sans-latin-{weight}-normal.woff2" for weight in (400, 700)
    ]
    for url in precache:
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()


def test_the_worker_keeps_an_arabic_readers_fonts(client: FlaskClient) -> None:
    """The worker knows the Arabic font files (kept when an Arabic page asks), and each exists."""
    body = client.get("/scan/sw.js").get_data(as_text=True)
    fonts = json.loads(re.search(r"^const LANGUAGE_FONTS = (.*);$", body, re.MULTILINE)[1])
    assert [font.rsplit("/", 1)[1] for font in fonts["ar"]] == [
        f"noto-sans-arabic-arabic-{weight}-normal.woff2" for weight in (400, 700)
    ]
    for url in fonts["ar"]:
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()
    assert 'const FONTS_PREFIX = "/static/vendor/@fontsource/";' in body


def test_the_worker_never_precaches_api_answers_bundles_verdicts_or_the_verdict_page(client: FlaskClient) -> None:
    """Nothing under /api/, no JWKS, status list, eligibility list, /v or whoami in the precache; the
    worker lets those through to the network."""
    precache = precache_of(client)
    body = client.get("/scan/sw.js").get_data(as_text=True)

    forbidden = re.compile(r"^/(api/|\.well-known/|statuslists/|offers/|v$|scan/whoami$)")
    assert [url for url in precache if forbidden.match(url)] == []
    for pattern in (r"/^\/api\//", r"/^\/\.well-known\//", r"/^\/statuslists\//", r"/^\/offers\//", r"/^\/v$/"):
        assert pattern in body


def test_the_worker_version_follows_the_shell_files(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """A changed shell file gives another version (so another cache name)."""
    from webapp.scan import views

    first = views.shell_version()
    views.shell_version.cache_clear()
    monkeypatch.setattr(views, "SHELL_STATIC_FILES", (*views.SHELL_STATIC_FILES[1:], views.SHELL_STATIC_FILES[0]))
    try:
        assert views.shell_version() != first
    finally:
        views.shell_version.cache_clear()


def test_whoami_signed_out(client: FlaskClient) -> None:
    """Anonymous: not signed in, no partner, where to sign in (back to the app); never cached."""
    response = client.get("/scan/whoami")

    assert response.get_json() == {"signed_in": False, "partner": False, "login_url": "/login?next=/scan/"}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("role", [Role.PARTNER_AGENT, Role.PARTNER_MANAGER])
def test_whoami_partner_staff(
    client: FlaskClient, auth: AuthActions, make_user: Any, make_organisation: Any, role: Role
) -> None:
    """Partner staff: their name and their organisation (they see its offers)."""
    organisation = make_organisation("Poste Test")
    auth.login(make_user(role, organisation=organisation, display_name="Agent Zineb"))

    answer = client.get("/scan/whoami").get_json()

    assert answer["signed_in"] is True and answer["partner"] is True
    assert answer["name"] == "Agent Zineb"
    assert answer["organisation"] == {"name": "Poste Test", "kind": organisation.kind_code}


@pytest.mark.parametrize("role", [Role.OFFICER, Role.ADMIN, Role.ARTISAN])
def test_whoami_other_people_are_not_partner_staff(
    client: FlaskClient, auth: AuthActions, make_user: Any, role: Role
) -> None:
    """Signed in but no partner: the app stays in public mode (no offers)."""
    auth.login(make_user(role))

    answer = client.get("/scan/whoami").get_json()

    assert answer["signed_in"] is True and answer["partner"] is False
    assert "organisation" not in answer


def test_whoami_for_a_partner_system_key_says_nothing_personal(client: FlaskClient, make_api_key: Any) -> None:
    """An API key is not a person using the app: no name, no partner mode."""
    secret = make_api_key().plaintext

    answer = client.get("/scan/whoami", headers={"Authorization": f"Bearer {secret}"}).get_json()

    assert answer == {"signed_in": True, "partner": False, "login_url": "/login?next=/scan/"}


def test_the_offline_page_links_back_to_the_app(client: FlaskClient) -> None:
    """What the worker shows for a page it cannot fetch: a way back to the app."""
    body = client.get("/scan/offline?lang=fr").get_data(as_text=True)

    assert "Pas de réseau" in body and 'href="/scan/"' in body


def test_the_shell_lists_every_module_its_scripts_import() -> None:
    """Every app module imported by another (the IndexedDB helper in static/js/lib/ too) is precached."""
    assert "js/lib/idb.js" in SHELL_STATIC_FILES
    assert missing_static_imports(PROJECT_ROOT / "static", SHELL_STATIC_FILES) == set()

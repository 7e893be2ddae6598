"""The verdict page's service worker (/verdict-sw.js): open to everyone, never cached by HTTP, and
keeping only the page's shell: no API, no trust material, nothing that holds a verdict."""

import json
import re

import pytest

from webapp.models import Role


def worker_constant(script: str, name: str) -> object:
    match = re.search(rf"^const {name} = (.+);$", script, re.M)
    assert match, name
    return json.loads(match[1])


@pytest.mark.parametrize("role", [None, Role.PARTNER_AGENT, Role.OFFICER])
def test_the_worker_is_public_and_revalidated(client, auth, make_user, role):
    """Anyone gets the worker (signed out or in), as JavaScript, revalidated on every page load."""
    if role is not None:
        auth.login(make_user(role))
    response = client.get("/verdict-sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert "no-cache" in response.headers["Cache-Control"]


def test_the_worker_keeps_the_shell_and_nothing_else(client):
    """It keeps /v and static files only: never the verify API, the JWKS, the bundle or a status list."""
    script = client.get("/verdict-sw.js").get_data(as_text=True)
    assert worker_constant(script, "PAGE") == "/v"
    precache = worker_constant(script, "PRECACHE")
    assert "/static/js/verdict-page.js" in precache and "/static/css/app.css" in precache
    assert all(url.startswith("/static/") for url in precache)
    assert 'credentials: "omit"' in script  # the kept page is the anonymous one


def test_the_page_registers_the_worker_for_its_own_scope(client):
    """The verdict page names its worker and the scope /v (nothing else of the site is controlled)."""
    page = client.get("/v").get_data(as_text=True)
    assert 'data-worker-url="/verdict-sw.js"' in page and 'data-worker-scope="/v"' in page


def test_the_page_shell_holds_no_verdict(client, make_card):
    """The HTML the worker keeps has no card and no verdict: the token stays in the URL fragment."""
    card = make_card()
    page = client.get("/v").get_data(as_text=True)
    assert card.number not in page and "Khadija" not in page
    assert 'class="verdict verdict-pending"' in page


def test_the_kept_shell_holds_every_module_the_page_imports():
    """Every module verdict-page.js imports, however deep, is kept: offline, one missing file and the
    page never settles on a verdict."""
    from webapp.public.views import VERDICT_PAGE_FILES
    from webapp.settings import PROJECT_ROOT

    static = PROJECT_ROOT / "static"
    wanted, seen = ["js/verdict-page.js"], set()
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        folder = (static / name).parent
        for imported in re.findall(r'^import .* from "(\.[^"]+)";', (static / name).read_text(), re.M):
            wanted.append(str((folder / imported).resolve().relative_to(static.resolve())))
    assert seen <= set(VERDICT_PAGE_FILES)

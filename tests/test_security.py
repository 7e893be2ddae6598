"""Request hygiene: a streamed (chunked) body obeys the same size limit as a sized one; security
headers on every response; signed session cookies."""

import io
import json
import re

import pytest
from flask import Response

from tests.fixtures.support import TEST_PASSWORD, csrf_token_from
from webapp.access import public
from webapp.models import Role
from webapp.settings import PROJECT_ROOT


def post_chunked(client, path, body: bytes, content_type="application/json"):
    """POST with Transfer-Encoding: chunked and no Content-Length, as gunicorn hands it to the app
    (it decodes the chunks and marks the input as terminated)."""
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": content_type},
        environ_overrides={"wsgi.input_terminated": True},
    )


@pytest.mark.parametrize("size", [8193, 9000, 100_000])
def test_a_chunked_verify_body_over_8_kb_gets_413(client, size):
    """Over MAX_CONTENT_LENGTH, a chunked body is refused with 413, not cut and read as bad JSON."""
    body = json.dumps({"qr": "x" * size}).encode()
    response = post_chunked(client, "/api/v1/verify", body)
    assert response.status_code == 413
    assert response.get_json()["error"] == "payload_too_large"


def test_a_small_chunked_verify_body_is_read_whole(client):
    """Under the limit, a chunked body reaches the view intact and gets a verdict."""
    response = post_chunked(client, "/api/v1/verify", json.dumps({"qr": "not a card"}).encode())
    assert response.status_code == 200
    assert response.get_json()["verdict"] == "not_a_card"


def test_a_chunked_login_form_over_the_limit_gets_413(client):
    """Forms obey the limit too when streamed."""
    response = post_chunked(
        client, "/login", b"email=a%40b.ma&password=" + b"x" * 9000, "application/x-www-form-urlencoded"
    )
    assert response.status_code == 413


def test_a_page_can_widen_its_csp_without_touching_the_rest():
    """content_security_policy() adds sources to named directives (new or existing) and keeps the others."""
    from webapp.security import CONTENT_SECURITY_POLICY, content_security_policy

    widened = content_security_policy({"script-src": ["'wasm-unsafe-eval'"], "worker-src": ["'self'"]})
    strict = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    directives = dict(part.split(" ", 1) for part in widened.split("; "))
    assert directives.pop("script-src") == "'self' 'wasm-unsafe-eval'"
    assert directives.pop("worker-src") == "'self'"
    assert directives == {name: sources for name, sources in strict.items() if name != "script-src"}
    assert content_security_policy({}) == CONTENT_SECURITY_POLICY


def test_every_response_carries_the_security_headers(client):
    """The API's answers get the same headers as pages: strict CSP, nosniff, same-origin referrer, no framing."""
    response = client.post("/api/v1/verify", json={"qr": "not a card"})
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "camera=(self)" in response.headers["Permissions-Policy"]


def test_a_header_set_by_the_view_is_kept(app):
    """A view that sets its own policy (a page widening its CSP) keeps it, once, not doubled."""

    @app.get("/test-own-csp")
    @public
    def own_csp():
        return Response("x", headers={"content-security-policy": "default-src 'none'"})

    response = app.test_client().get("/test-own-csp")
    assert response.headers.getlist("Content-Security-Policy") == ["default-src 'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_session_serializer_is_built_once_per_secret_key(app):
    """Sessions sign with one serializer per key; a new SECRET_KEY gets a new one."""
    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    app.secret_key = "another-secret-key-that-is-long-enough-0123456789"
    assert interface.get_signing_serializer(app) is not first


def test_a_signed_in_session_still_round_trips(client):
    """The cached serializer signs and reads cookies as Flask's own does: a session value survives."""
    with client.session_transaction() as session:
        session["probe"] = "kept"
    with client.session_transaction() as session:
        assert session["probe"] == "kept"


@pytest.mark.parametrize("path", ["/login", "/v", "/static/css/app.css", "/scan/sw.js", "/.well-known/jwks.json"])
def test_the_referrer_stays_on_our_own_origin(client, path):
    """Pages, files and API answers send a same-origin policy: our own forms carry their Referer
    (CSRF checks it over HTTPS), other sites get none."""
    response = client.get(path)
    response.close()  # a static file's stream
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_template_sets_its_own_referrer_policy():
    """No page turns the Referer off again (a meta tag or a referrerpolicy attribute would bring
    back the HTTPS sign-in failure the header fixed)."""
    override = re.compile(r"referrerpolicy|name=[\"']?referrer", re.IGNORECASE)
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "templates").rglob("*")
        if path.is_file() and override.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("referer", "status"),
    [
        ("https://carte.test/login", 302),  # our own origin: signed in
        (None, 400),  # no Referer over HTTPS: refused, as before
        ("https://elsewhere.test/login", 400),  # another origin
        ("http://carte.test/login", 400),  # our host over plain HTTP
    ],
)
def test_https_form_posts_still_check_the_referer_and_the_token(client, make_user, referer, status):
    """Over HTTPS a form post needs its token AND a same-origin Referer (Flask-WTF's SSL-strict check
    is kept): the policy only lets our own pages send it."""
    user = make_user(Role.OFFICER)
    https = {"base_url": "https://carte.test"}
    token = csrf_token_from(client.get("/login", **https).get_data(as_text=True))
    headers = {"Referer": referer} if referer else {}
    form = {"email": user.email, "password": TEST_PASSWORD, "csrf_token": token}
    assert client.post("/login", data=form, headers=headers, **https).status_code == status


def test_an_https_form_post_without_its_token_is_refused(client, make_user):
    """A same-origin Referer alone is not enough: the token is still required."""
    user = make_user(Role.OFFICER)
    https = {"base_url": "https://carte.test"}
    client.get("/login", **https)
    form = {"email": user.email, "password": TEST_PASSWORD}
    response = client.post("/login", data=form, headers={"Referer": "https://carte.test/login"}, **https)
    assert response.status_code == 400

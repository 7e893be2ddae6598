"""Public pages: languages, right-to-left Arabic, strict security headers."""

import pytest


@pytest.mark.parametrize(
    ("query", "accept", "lang", "direction", "text"),
    [
        ("", "", "fr", "ltr", "Vérification de la carte"),
        ("?lang=ar", "", "ar", "rtl", "التحقق من البطاقة"),
        ("?lang=en", "", "en", "ltr", "Card check"),
        ("", "ar-MA,ar;q=0.9", "ar", "rtl", "التحقق من البطاقة"),
        ("?lang=xx", "en", "en", "ltr", "Card check"),
    ],
)
def test_verdict_page_languages(client, query, accept, lang, direction, text):
    """/v speaks French by default, Arabic right to left, English; ?lang= wins over Accept-Language."""
    response = client.get(f"/v{query}", headers={"Accept-Language": accept} if accept else {})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<html lang="{lang}" dir="{direction}">' in page
    assert text in page


def test_chosen_language_is_remembered(client):
    """?lang=ar sets a cookie, so the next page is Arabic too."""
    client.get("/?lang=ar")
    assert 'lang="ar"' in client.get("/v").get_data(as_text=True)


def test_pages_have_a_strict_csp_and_no_inline_script(client):
    """CSP allows scripts from this site only, and the page has no inline script or handler."""
    response = client.get("/v")
    csp = response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "<script>" not in page and "onclick" not in page and "onload" not in page
    assert '<script type="module" src="/static/js/verdict-page.js">' in page


def test_unknown_page_is_a_translated_404(client):
    """A missing page answers 404 with a page in the user's language."""
    response = client.get("/nowhere?lang=ar")
    assert response.status_code == 404 and 'dir="rtl"' in response.get_data(as_text=True)


def test_health_endpoint(client):
    """/healthz answers ok without signing in."""
    assert client.get("/healthz").get_data(as_text=True) == "ok"


class TestBehindAProxy:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "TRUSTED_PROXY_COUNT": 1, "RATELIMIT_ENABLED": True, "VERIFY_RATE_LIMIT": "2 per minute"}

    def test_rate_limits_count_per_forwarded_client(self, client):
        """With one trusted proxy, each X-Forwarded-For client has its own verify limit."""

        def post(address):
            return client.post("/api/v1/verify", json={"qr": "x"}, headers={"X-Forwarded-For": address}).status_code

        assert [post("10.0.0.1") for _ in range(3)] == [200, 200, 429]
        assert post("10.0.0.2") == 200


def test_verdict_texts_are_published_in_every_language(client):
    """Offline verifiers fetch every verdict's title and message (and the live/printed words) in fr, ar
    and en, cacheable, in one place."""
    response = client.get("/verdict-texts.json")
    texts = response.get_json()
    assert response.status_code == 200 and set(texts) == {"fr", "ar", "en"}
    expected = {
        "valid", "expired", "revoked", "suspended", "unknown_key", "bad_signature", "not_a_card", "malformed",
        "replayed", "pending", "network_error", "offline", "cannot_confirm", "shown_live", "shown_printed",
    }  # fmt: skip
    for language in texts.values():
        assert set(language) == expected
        assert all(text["title"] and text["message"] for text in language.values())
    assert texts["en"]["revoked"]["title"] == "Revoked" and texts["fr"]["revoked"]["title"] == "Révoquée"
    assert texts["ar"]["malformed"]["message"] != texts["en"]["malformed"]["message"]
    assert "max-age" in response.headers["Cache-Control"] and response.headers["Access-Control-Allow-Origin"] == "*"


def test_the_api_and_the_published_texts_say_the_same(client):
    """The verify API's reason is the published message of its verdict, in the caller's language."""
    published = client.get("/verdict-texts.json").get_json()["ar"]
    answer = client.post("/api/v1/verify", json={"qr": "hello"}, headers={"Accept-Language": "ar"}).get_json()
    assert answer["reason"] == published[answer["verdict"]]["message"]


def _language_links(page: str) -> dict[str, str]:
    import html
    import re

    nav = re.search(r'<nav class="languages".*?</nav>', page, re.S)
    assert nav is not None
    return {code: html.unescape(href) for href, code in re.findall(r'<a href="([^"]+)" lang="(\w+)"', nav[0])}


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_language_links_keep_the_card_number(client, lang):
    """On /check, switching language keeps the number typed (path and query), only `lang` changes."""
    page = client.get("/check", query_string={"card": "K7M2Q 9XH4V", "lang": lang}).get_data(as_text=True)
    links = _language_links(page)
    other = "ar" if lang == "fr" else "fr"
    assert links[other] == f"/check?card=K7M2Q+9XH4V&lang={other}"
    assert links["en"] == "/check?card=K7M2Q+9XH4V&lang=en"


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_language_links_keep_a_search(client, auth, make_user, lang):
    """In the register, switching language keeps the search terms and every other query argument."""
    from webapp.models import Role

    auth.login(make_user(Role.OFFICER))
    page = client.get("/office/artisans", query_string={"q": "Bennani & fils", "lang": lang, "page": "2"})
    links = _language_links(page.get_data(as_text=True))
    assert links["en"] == "/office/artisans?q=Bennani+%26+fils&page=2&lang=en"

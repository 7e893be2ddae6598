"""JWKS and the status list: public, cacheable, readable from any origin."""

import jwt
import pytest

from tests.conftest import TEST_ACTOR
from webapp.models import RevocationReason
from webapp.services.cards import lifecycle as card_service
from webapp.services.trust import signing_keys


def test_jwks_lists_the_verifying_keys_with_cors_and_caching(app, client, signer):
    """The JWKS has the active key as a public EC JWK, with CORS and max-age."""
    response = client.get("/.well-known/jwks.json")
    keys = response.get_json()["keys"]
    assert response.status_code == 200
    assert [k["kid"] for k in keys] == [signer.kid]
    assert set(keys[0]) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age=300" in response.headers["Cache-Control"] and "public" in response.headers["Cache-Control"]


def test_jwks_drops_a_retired_key(app, client, session, signer):
    """After rotation both keys are published; after retirement only the new one."""
    new_key = signing_keys.rotate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
    session.commit()
    assert {k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]} == {signer.kid, new_key.kid}
    signing_keys.retire_key(session, signer.kid, TEST_ACTOR)
    session.commit()
    assert [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]] == [new_key.kid]


def test_jwks_keys_verify_a_card(app, client, make_card):
    """A verifier that only has the JWKS can check a card's signature."""
    card = make_card()
    jwks = client.get("/.well-known/jwks.json").get_json()
    key = jwt.PyJWKSet.from_dict(jwks)[card.key_id]
    assert jwt.decode(card.token, key, algorithms=["ES256"])["cn"] == card.number


def test_status_list_is_served_with_etag_and_max_age(app, client, make_card):
    """The signed list comes as application/statuslist+jwt with ETag, max-age and CORS."""
    make_card()
    response = client.get("/statuslists/1")
    assert response.status_code == 200
    assert response.mimetype == "application/statuslist+jwt"
    assert response.headers["ETag"]
    assert "max-age=300" in response.headers["Cache-Control"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert jwt.get_unverified_header(response.get_data(as_text=True))["typ"] == "statuslist+jwt"


def test_status_list_answers_304_until_a_status_changes(app, client, session, make_card):
    """If-None-Match with the current ETag gives 304; after a revocation the ETag changes."""
    card = make_card()
    etag = client.get("/statuslists/1").headers["ETag"]
    assert client.get("/statuslists/1", headers={"If-None-Match": etag}).status_code == 304
    card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    response = client.get("/statuslists/1", headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag


@pytest.mark.parametrize("path", ["/statuslists/2", "/statuslists/0", "/statuslists/abc"])
def test_unknown_status_lists_are_404(client, signer, path):
    """Only list 1 exists."""
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("language", "reason"),
    [("en", "No active signing key"), ("fr", "Aucune clé de signature active"), ("ar", "لا يوجد مفتاح توقيع نشط")],
)
def test_status_list_without_a_signing_key_answers_503_json(client, language, reason):
    """With no signing key yet, the status list is a JSON refusal with a reason code, never a 500 page."""
    response = client.get(f"/statuslists/1?lang={language}")
    assert response.status_code == 503
    assert response.get_json()["error"] == "no_signing_key"
    assert response.get_json()["reason"].startswith(reason)


class TestStatusListLifetime:
    @pytest.fixture(params=[300, 60])
    def app_config(self, app_config, request):
        return {**app_config, "STATUS_LIST_MAX_AGE_SECONDS": request.param}

    def test_status_list_ttl_equals_its_http_max_age(self, app, client, make_card):
        """The token's ttl and the response's max-age are one number, STATUS_LIST_MAX_AGE_SECONDS."""
        make_card()
        response = client.get("/statuslists/1")
        payload = jwt.decode(response.get_data(as_text=True), options={"verify_signature": False})
        assert payload["ttl"] == response.cache_control.max_age == app.config["STATUS_LIST_MAX_AGE_SECONDS"]
        assert payload["exp"] - payload["iat"] == app.config["STATUS_LIST_VALIDITY_SECONDS"]

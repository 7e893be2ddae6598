"""GET /api/v1/bundle: the signed trust bundle, public or per partner, verifiable with the JWKS alone."""

import zlib
from datetime import timedelta

import jwt
import pytest
from jwt.utils import base64url_decode

from tests.fixtures.factories import CNSS_REGISTERED
from webapp.models import CnssStatus, PartnerKind, Role


def decode_bundle(client, token: str) -> dict:
    """Verify the bundle as an app does: its kid must be in the JWKS it already trusts."""
    keys = {key["kid"]: key for key in client.get("/.well-known/jwks.json").get_json()["keys"]}
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "bundle+jwt" and header["alg"] == "ES256" and header["kid"] in keys
    public_key = jwt.PyJWK(keys[header["kid"]]).key
    return jwt.decode(token, public_key, algorithms=["ES256"], options={"verify_aud": False})


def eligible_bits(list_token: str) -> bytes:
    payload = jwt.decode(list_token, options={"verify_signature": False})
    assert payload["status_list"]["bits"] == 1
    return zlib.decompress(base64url_decode(payload["status_list"]["lst"]))


def test_the_public_bundle_has_keys_and_status_list_and_no_offers(client, make_card, make_offer):
    """Anyone gets the JWKS, the status list and a 7-day maximum age, never a partner's offers."""
    make_card()
    make_offer()
    response = client.get("/api/v1/bundle")
    assert response.status_code == 200 and response.mimetype == "application/bundle+jwt"
    assert "no-cache" in response.headers["Cache-Control"] and response.headers["Access-Control-Allow-Origin"] == "*"
    bundle = decode_bundle(client, response.get_data(as_text=True))
    assert bundle["aud"] == "public" and bundle["offers"] == []
    assert bundle["max_age"] == 7 * 24 * 3600 == bundle["exp"] - bundle["iat"]
    assert bundle["jwks"]["keys"] == client.get("/.well-known/jwks.json").get_json()["keys"]
    status_list = jwt.decode(bundle["status_list"], options={"verify_signature": False})
    assert status_list["exp"] >= bundle["exp"]  # the list outlives the bundle (rule B4)


def test_a_partner_bundle_carries_its_offers_with_eligibility_lists(
    client, session, make_api_key, make_offer, make_artisan, make_card, make_organisation
):
    """A lender's system gets its offers (texts, quota, fields) and one eligibility bit per card, and its
    kind's maximum age (24 h); another partner's offers are not there."""
    lender = make_organisation(kind="lender")
    offer = make_offer(lender, conditions=[CNSS_REGISTERED], quota=(2, "year"))
    make_offer(name="Another partner's offer")
    eligible = make_card(artisan=make_artisan(cnss_status=CnssStatus.REGISTERED))
    refused = make_card(artisan=make_artisan(cnss_status=CnssStatus.NOT_REGISTERED))
    key = make_api_key(lender)
    token = client.get("/api/v1/bundle", headers={"Authorization": f"Bearer {key.plaintext}"}).get_data(as_text=True)
    bundle = decode_bundle(client, token)
    assert bundle["aud"] == f"partner:{lender.slug}"
    assert bundle["max_age"] == session.get(PartnerKind, "lender").max_bundle_age_hours * 3600 == 24 * 3600
    [entry] = bundle["offers"]
    assert entry["id"] == offer.id and entry["name"]["ar"] == offer.name_ar
    assert entry["quota"] == {"count": 2, "period": "year"} and entry["fields"] == offer.fields
    bits = eligible_bits(entry["eligibility"])
    assert (bits[eligible.status_index // 8] >> (eligible.status_index % 8)) & 1 == 1
    assert (bits[refused.status_index // 8] >> (refused.status_index % 8)) & 1 == 0


def test_partner_staff_signed_in_get_their_bundle(client, auth, make_user, make_offer, make_card):
    """A counter agent's app signed in with a password gets the same partner bundle."""
    agent = make_user(Role.PARTNER_AGENT)
    make_offer(agent.organisation)
    make_card()
    auth.login(agent)
    bundle = decode_bundle(client, client.get("/api/v1/bundle").get_data(as_text=True))
    assert bundle["aud"] == f"partner:{agent.organisation.slug}" and len(bundle["offers"]) == 1


def test_an_unchanged_bundle_answers_304(client, make_card):
    """The ETag follows the content, not the signing time: a refresh with nothing new downloads nothing."""
    make_card()
    first = client.get("/api/v1/bundle")
    again = client.get("/api/v1/bundle", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_a_revocation_changes_the_bundle(client, session, make_card):
    """A new status makes a new ETag, so apps fetch the new status list at their next refresh."""
    from tests.conftest import TEST_ACTOR
    from webapp.models import RevocationReason
    from webapp.services.cards import lifecycle

    card = make_card()
    etag = client.get("/api/v1/bundle").headers["ETag"]
    lifecycle.revoke_card(session, card, RevocationReason.STOLEN, TEST_ACTOR)
    session.commit()
    response = client.get("/api/v1/bundle", headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag


@pytest.mark.parametrize(("header", "status", "code"), [("Bearer ca_nonsense", 401, "invalid_api_key")])
def test_a_bad_key_is_refused(client, make_card, header, status, code):
    """A malformed key is refused, never silently served the public bundle."""
    make_card()
    response = client.get("/api/v1/bundle", headers={"Authorization": header})
    assert response.status_code == status and response.get_json()["error"] == code


def test_a_key_without_the_verify_scope_is_refused(client, make_api_key, make_card):
    """A key for eligibility checks only cannot fetch the verifier's bundle."""
    make_card()
    key = make_api_key(scopes=["eligibility"])
    response = client.get("/api/v1/bundle", headers={"Authorization": f"Bearer {key.plaintext}"})
    assert response.status_code == 403 and response.get_json()["error"] == "insufficient_scope"


def test_without_a_signing_key_the_bundle_is_a_json_refusal(client):
    """No key yet: 503 with a reason code, not a 500."""
    response = client.get("/api/v1/bundle")
    assert response.status_code == 503 and response.get_json()["error"] == "no_signing_key"


def test_bundle_lists_outlive_the_bundle(app, client, session, make_card):
    """A list signed long ago is signed again for a bundle when less than its maximum age is left."""
    from webapp.models import StatusListState, utcnow

    make_card()
    client.get("/statuslists/1")
    state = session.get(StatusListState, 1)
    state.signed_at = utcnow() - timedelta(days=3)  # 5 days left: fine for /statuslists/1, too few for a bundle
    session.commit()
    bundle = decode_bundle(client, client.get("/api/v1/bundle").get_data(as_text=True))
    status_list = jwt.decode(bundle["status_list"], options={"verify_signature": False})
    assert status_list["exp"] >= bundle["exp"]


def test_the_served_bundles_pass_the_verifier_apps_reading(
    app, client, make_api_key, make_offer, make_card, make_organisation
):
    """The public and a partner's bundle are usable under rules B1-B5 with the JWKS an app fetches first."""
    from webapp.models import utcnow
    from webapp.services.trust.bundle import import_jwks, read_bundle

    partner = make_organisation(kind="transporter")
    offer = make_offer(partner)
    card = make_card()
    key = make_api_key(partner)
    trusted = import_jwks(client.get("/.well-known/jwks.json").get_json())
    read = {}
    for audience, headers in [("public", {}), ("partner", {"Authorization": f"Bearer {key.plaintext}"})]:
        token = client.get("/api/v1/bundle", headers=headers).get_data(as_text=True)
        read[audience] = read_bundle(token, trusted, public_base_url=app.config["PUBLIC_BASE_URL"], now=utcnow())
    assert read["public"].audience == "public" and read["public"].offers == ()
    assert [entry.id for entry in read["partner"].offers] == [offer.id]
    assert read["partner"].status_list.status(card.status_index) == 0


@pytest.mark.parametrize(
    ("kind", "hours"),
    [("lender", 24), ("transporter", 72), ("training_body", 72), ("other", 72), ("market_organiser", 168)],
)
def test_each_partner_kind_gets_its_documented_maximum_age(
    client, make_api_key, make_card, make_organisation, kind, hours
):
    """Rule A6 of docs/card-token.md: the bundle's max_age per partner kind (a training body's is 72 h)."""
    make_card()
    key = make_api_key(make_organisation(kind=kind), scopes=["verify"])
    token = client.get("/api/v1/bundle", headers={"Authorization": f"Bearer {key.plaintext}"}).get_data(as_text=True)
    bundle = decode_bundle(client, token)
    assert bundle["max_age"] == hours * 3600 == bundle["exp"] - bundle["iat"]


def test_a_kinds_age_never_outlasts_the_lists(client, session, make_api_key, make_card, make_organisation):
    """Rule A6: a kind set to 30 days still gets a bundle no older than the lists' validity (8 days)."""
    make_card()
    session.get(PartnerKind, "transporter").max_bundle_age_hours = 30 * 24
    session.commit()
    key = make_api_key(make_organisation(kind="transporter"), scopes=["verify"])
    token = client.get("/api/v1/bundle", headers={"Authorization": f"Bearer {key.plaintext}"}).get_data(as_text=True)
    assert decode_bundle(client, token)["max_age"] == 8 * 86400

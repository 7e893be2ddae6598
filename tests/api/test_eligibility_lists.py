"""GET /offers/<id>/eligibility: which API key scope reads an offer's signed eligibility list (rule A5)."""

import jwt
import pytest


@pytest.mark.parametrize(
    ("scopes", "status"),
    [
        (["verify"], 200),
        (["eligibility"], 403),
        (["redeem"], 403),
        (["redeem", "eligibility"], 403),
    ],
    ids=["verify", "eligibility-only", "redeem-only", "all-but-verify"],
)
def test_the_verify_scope_reads_an_offers_list(client, make_card, make_offer, make_api_key, scopes, status):
    """The list is offline verification material, like the bundle that carries it: the verify scope reads it;
    the eligibility scope (one card's answer by number) does not."""
    make_card()
    offer = make_offer()
    key = make_api_key(offer.organisation, scopes=scopes)
    response = client.get(f"/offers/{offer.id}/eligibility", headers={"Authorization": f"Bearer {key.plaintext}"})
    assert response.status_code == status
    if status == 403:
        assert response.get_json()["error"] == "insufficient_scope"
    else:
        assert response.mimetype == "application/statuslist+jwt"


def test_the_list_is_the_one_the_bundle_carries(client, make_card, make_offer, make_api_key):
    """A verify key gets the same signed list alone and inside its bundle: one scope for one material."""
    make_card()
    offer = make_offer()
    headers = {"Authorization": f"Bearer {make_api_key(offer.organisation, scopes=['verify']).plaintext}"}
    alone = client.get(f"/offers/{offer.id}/eligibility", headers=headers).get_data(as_text=True)
    bundle = jwt.decode(
        client.get("/api/v1/bundle", headers=headers).get_data(as_text=True), options={"verify_signature": False}
    )
    assert [entry["eligibility"] for entry in bundle["offers"]] == [alone]

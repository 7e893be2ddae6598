"""The published checkpoints of the audit trail: public JSON, cacheable briefly, readable from any
origin, and checkable by an outsider with the JWKS alone."""

from __future__ import annotations

import jwt

from tests.cli.conftest import run


def test_no_checkpoint_yet_is_a_404(client, signer):
    response = client.get("/audit/checkpoints/latest")
    assert response.status_code == 404 and response.get_json() == {"error": "not_found"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_the_latest_checkpoint_verifies_with_the_jwks(client, runner, make_card):
    """The latest checkpoint's token verifies with the published JWKS and says its size and head."""
    make_card()
    assert run(runner, "audit", "checkpoint")[0] == 0
    make_card()
    assert run(runner, "audit", "checkpoint")[0] == 0
    response = client.get("/audit/checkpoints/latest")
    body = response.get_json()
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age=60" in response.headers["Cache-Control"] and "public" in response.headers["Cache-Control"]
    jwks = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").get_json())
    header = jwt.get_unverified_header(body["token"])
    payload = jwt.decode(body["token"], jwks[header["kid"]], algorithms=["ES256"])
    assert header["typ"] == "audit-checkpoint+jwt"
    assert (body["number"], body["size"], payload["size"], payload["head"]) == (2, 3, 3, body["head"])


def test_a_checkpoint_by_number_is_kept_a_day(client, runner, make_card):
    """A given checkpoint never changes: cacheable for a day; an unknown number is a 404."""
    make_card()
    assert run(runner, "audit", "checkpoint")[0] == 0
    response = client.get("/audit/checkpoints/1")
    assert response.status_code == 200 and response.get_json()["size"] == 2
    assert "max-age=86400" in response.headers["Cache-Control"]
    assert client.get("/audit/checkpoints/9").status_code == 404

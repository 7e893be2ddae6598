"""The signing key's file missing or unreadable while the database says it signs (issue 14): the
workers verify, issuing answers 503 saying which kid and which file and why (logged at once as an
error), and trust material already signed is served until it expires."""

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from tests.backoffice.conftest import OFFICER_REGION, Staff
from tests.conftest import TEST_ACTOR
from tests.fixtures.auth import AuthActions
from webapp.models import RevocationReason, Role, utcnow
from webapp.services.cards import lifecycle as card_service
from webapp.services.trust.signing_keys import NoActiveSigningKey
from webapp.services.trust.status_list import current_status_list


def _break(path: Path, how: str) -> str:
    """Make the key file unusable; the reason the refusal must give."""
    if how == "missing":
        path.unlink()
        return "missing"
    path.write_text("not a key")  # unreadable as a key (mode 000 is no obstacle to root, who runs CI boxes)
    return "not a PEM private key"


@pytest.fixture(params=["missing", "not_pem"])
def broken_key(request, app, signer):
    """The active key's PEM broken after a card was issued and the trust material signed; the
    refusal's code and reason, and the path."""
    path = Path(app.config["KEYS_DIR"]) / f"{signer.kid}.pem"
    return {"how": request.param, "path": path, "kid": signer.kid, "break": lambda: _break(path, request.param)}


def test_verification_goes_on_without_the_private_key(client, make_card, broken_key):
    """A card issued before the key file went missing still verifies "valid"."""
    card = make_card()
    broken_key["break"]()
    answer = client.post("/api/v1/verify", json={"qr": card.token})
    assert answer.status_code == 200 and answer.get_json()["verdict"] == "valid"


def test_issuing_answers_503_naming_the_kid_the_file_and_why(app, session, make_user, make_artisan, broken_key, caplog):
    """An officer issuing a card gets a 503 page that says which key's file, where, and what is wrong;
    the log has the same as an error."""
    officer = make_user(Role.OFFICER, region=OFFICER_REGION)
    artisan = make_artisan()
    session.commit()
    reason = broken_key["break"]()
    client = app.test_client()
    assert AuthActions(client).login(officer).status_code == 302
    with caplog.at_level(logging.ERROR):
        answer = Staff(client).post(f"/office/artisans/{artisan.id}/cards/issue", {"reason": ""}, language="en")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503
    assert broken_key["kid"] in page and str(broken_key["path"]) in page and reason in page
    assert "keys generate" not in page
    assert any(str(broken_key["path"]) in record.getMessage() for record in caplog.records)


def test_signed_status_list_and_bundle_are_served_until_they_expire(client, session, make_card, broken_key):
    """The status list and the public bundle signed before the key went missing are served again,
    though a revocation since would need a new signature (the verify API reads the register live)."""
    card = make_card()
    status_list = client.get("/statuslists/1").get_data(as_text=True)
    bundle = client.get("/api/v1/bundle").get_data(as_text=True)
    broken_key["break"]()
    card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    served_list = client.get("/statuslists/1")
    served_bundle = client.get("/api/v1/bundle")
    assert served_list.status_code == 200 and served_list.get_data(as_text=True) == status_list
    assert served_bundle.status_code == 200 and served_bundle.get_data(as_text=True) == bundle


def test_a_worker_that_never_signed_a_bundle_says_why_it_cannot(make_app, make_card, broken_key):
    """A bundle is signed on every request: a worker started after the key went missing has none to
    serve, and answers 503 JSON naming the key's file (not "run keys generate")."""
    make_card()
    broken_key["break"]()
    answer = make_app().test_client().get("/api/v1/bundle?lang=en")
    assert answer.status_code == 503
    assert answer.get_json()["error"] in ("private_key_missing", "private_key_unreadable")
    assert str(broken_key["path"]) in answer.get_json()["message"]


def test_an_expired_list_is_not_served_without_a_key(session, signer):
    """Past its exp, the last signed list is no longer served: the refusal says why signing failed."""
    signed = current_status_list(session, signer, "https://carte.test/statuslists/1", timedelta(days=8), ttl_seconds=60)
    session.commit()

    def no_signer():
        raise NoActiveSigningKey()

    later = signed.signed_at + timedelta(days=9)
    with pytest.raises(NoActiveSigningKey):
        current_status_list(
            session, no_signer, "https://carte.test/statuslists/1", timedelta(days=8), ttl_seconds=60, now=later
        )
    assert utcnow() < later

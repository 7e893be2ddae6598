"""POST /api/v1/verify with live codes made in Python as the card app makes them: valid within one
window of the server's clock, `replayed` outside it, for a bare holder-bound token or a phone the
card has left (refused at once, before the status list is signed again), and the presentation."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.conftest import TEST_ACTOR
from tests.fixtures.live import Phone, window_of
from webapp.models import RevocationReason, utcnow
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.tokens import qr_text, sign_card_token, verify_card_token
from webapp.services.trust import signing_keys

URL = "/api/v1/verify"


def verify(client, qr, language="en"):
    return client.post(URL, json={"qr": qr}, headers={"Accept-Language": language}).get_json()


@pytest.fixture
def live(app, make_card, bind_phone):
    card = make_card()
    phone, device, token = bind_phone(card)
    return card, phone, device, token


@pytest.mark.parametrize("windows", [0, -1, 1], ids=["now", "one-before", "one-after"])
def test_a_live_code_in_its_window_is_valid_and_live(app, client, live, windows):
    """A live code of this window or the next or previous one: valid, the card, presentation live."""
    card, phone, _device, token = live
    code = phone.live_code(token, window_of(utcnow()) + windows)
    body = verify(client, qr_text(app.config["PUBLIC_BASE_URL"], code))
    assert body["verdict"] == "valid" and body["presentation"] == "live"
    assert body["card"]["number"] == card.number and "replay" not in body


def test_the_printed_card_says_printed(app, client, live):
    """The printed token of the same card: valid, presentation printed."""
    card = live[0]
    body = verify(client, qr_text(app.config["PUBLIC_BASE_URL"], card.token))
    assert (body["verdict"], body["presentation"]) == ("valid", "printed")


@pytest.mark.parametrize("windows", [-2, 2, -2880], ids=["a-minute-old", "a-minute-ahead", "a-day-old"])
def test_a_live_code_outside_its_window_is_replayed(app, client, live, windows):
    """Two windows or more from the server's clock: replayed (window), no card details, in the caller's language."""
    _card, phone, _device, token = live
    code = phone.live_code(token, window_of(utcnow()) + windows)
    body = verify(client, code)
    assert (body["verdict"], body["replay"]) == ("replayed", "window")
    assert "card" not in body and "presentation" not in body
    assert body["reason"] == "This is a copy of an earlier screen: ask the holder to open the card app."
    french = verify(client, code, "fr")["reason"]
    assert french == "Copie d’un écran précédent : demandez au titulaire d’ouvrir l’application de sa carte."


def test_a_bare_holder_bound_token_is_replayed(app, client, live):
    """The token copied out of a live QR, without its live signature: replayed."""
    token = live[3]
    body = verify(client, qr_text(app.config["PUBLIC_BASE_URL"], token))
    assert (body["verdict"], body["replay"]) == ("replayed", "window")


def test_a_replaced_phone_is_refused_at_once(app, client, session, signer, live, bind_phone):
    """After the card moves to another phone, the old phone's fresh code is replayed (device_replaced)
    although the signed status list was not rebuilt; the new phone's code is valid."""
    card, old_phone, _device, old_token = live
    new_phone, _new_device, new_token = bind_phone(card)
    now = window_of(utcnow())
    body = verify(client, old_phone.live_code(old_token, now))
    assert (body["verdict"], body["replay"]) == ("replayed", "device_replaced")
    assert verify(client, new_phone.live_code(new_token, now))["verdict"] == "valid"


def test_a_wrong_phone_signature_is_bad_signature(app, client, live):
    """A live code signed by another key than cnf.k: bad_signature; a window changed after signing too."""
    _card, phone, _device, token = live
    now = window_of(utcnow())
    forged = Phone.new().live_code(token, now)
    assert verify(client, forged)["verdict"] == "bad_signature"
    signed = phone.live_code(token, now - 10)
    moved = signed.replace(f".{now - 10}.", f".{now}.")
    assert verify(client, moved)["verdict"] == "bad_signature"


def test_card_verdicts_come_before_replayed(app, client, session, live):
    """An old screenshot of a revoked card is revoked, not replayed."""
    card, phone, _device, token = live
    card_service.revoke_card(session, card, RevocationReason.STOLEN, TEST_ACTOR)
    session.commit()
    body = verify(client, phone.live_code(token, window_of(utcnow() - timedelta(days=1))))
    assert (body["verdict"], body["presentation"]) == ("revoked", "live")


def test_a_live_code_of_a_plain_token_is_malformed(app, client, live):
    """T without cnf in a live code: malformed."""
    card, phone = live[0], live[1]
    assert verify(client, phone.live_code(card.token, window_of(utcnow())))["verdict"] == "malformed"


def test_a_binding_that_is_not_the_tokens_is_refused(app, client, live, caplog):
    """A token whose ds is a binding with another key (only a leaked key or a bug signs it): replayed, alarm logged."""
    card, _phone, device, token = live
    private = signing_keys.load_private_key(app.config["KEYS_DIR"], card.key_id)
    claims = verify_card_token(token, {card.key_id: private.public_key()})
    other = Phone.new()
    forged = sign_card_token(replace(claims, device_key=other.device_key), card.key_id, private)
    body = verify(client, other.live_code(forged, window_of(utcnow())))
    assert (body["verdict"], body["replay"]) == ("replayed", "device_replaced")
    assert f"names device index {device.status_index}" in caplog.text


def test_a_device_index_no_binding_holds_is_not_a_card(app, client, live):
    """ds past every binding: not_a_card, as for sl."""
    card, phone, device, token = live
    private = signing_keys.load_private_key(app.config["KEYS_DIR"], card.key_id)
    claims = verify_card_token(token, {card.key_id: private.public_key()})
    forged = sign_card_token(replace(claims, device_index=device.status_index + 1000), card.key_id, private)
    assert verify(client, phone.live_code(forged, window_of(utcnow())))["verdict"] == "not_a_card"

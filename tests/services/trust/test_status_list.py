"""The status list: IETF Token Status List, 2 bits per card, rebuilt when a status changes."""

import base64
import zlib
from datetime import timedelta

import jwt
import pytest

from tests.conftest import TEST_ACTOR
from webapp.models import RevocationReason
from webapp.services.cards import lifecycle as card_service
from webapp.services.trust import status_list
from webapp.services.trust.signing_keys import load_keyring

SUBJECT = "https://carte.test/statuslists/1"
VALIDITY = timedelta(days=1)


def test_packing_follows_the_draft_example():
    """The draft's 2-bit example (12 statuses) packs and compresses to its published bytes."""
    statuses = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
    packed = status_list.pack_statuses(len(statuses), list(enumerate(statuses)))
    assert packed == bytes([0xC9, 0x44, 0xF9])
    assert status_list.encode_list(packed) == "eNo76fITAAPfAgc"
    assert [status_list.read_status(packed, i) for i in range(12)] == statuses


def decode_list(app, session, token):
    keys = load_keyring(session, app.config["KEYS_DIR"]).verifying_keys
    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, keys[header["kid"]], algorithms=["ES256"], options={"verify_exp": True})
    lst = payload["status_list"]["lst"]
    return header, payload, zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))


def current(session, signer, now=None):
    return status_list.current_status_list(session, signer, SUBJECT, VALIDITY, now=now)


def test_signed_list_reflects_every_status(app, session, signer, make_card):
    """Valid 0, revoked 1, suspended 2, at each card's own index, in a statuslist+jwt."""
    active, revoked, suspended = make_card(), make_card(), make_card()
    card_service.revoke_card(session, revoked, RevocationReason.STOLEN, TEST_ACTOR)
    card_service.suspend_card(session, suspended, "inquiry", TEST_ACTOR)
    session.commit()
    header, payload, packed = decode_list(app, session, current(session, signer).token)
    assert header["typ"] == "statuslist+jwt"
    assert payload["sub"] == SUBJECT and payload["status_list"]["bits"] == 2
    assert payload["exp"] - payload["iat"] == VALIDITY.total_seconds()
    assert status_list.read_status(packed, active.status_index) == 0
    assert status_list.read_status(packed, revoked.status_index) == 1
    assert status_list.read_status(packed, suspended.status_index) == 2


def test_list_is_cached_until_a_status_changes(app, session, signer, make_card):
    """The same signed list is served until a status change bumps the version."""
    card = make_card()
    first = current(session, signer)
    session.commit()
    assert current(session, signer).token == first.token
    card_service.suspend_card(session, card, "check", TEST_ACTOR)
    session.commit()
    changed = current(session, signer)
    assert changed.token != first.token and changed.version == first.version + 1
    _, _, packed = decode_list(app, session, changed.token)
    assert status_list.read_status(packed, card.status_index) == 2


def test_list_is_resigned_when_half_its_validity_has_passed(session, signer, make_card):
    """A list older than half its validity is signed again, so clients never hold an expired one."""
    make_card()
    first = current(session, signer)
    session.commit()
    later = current(session, signer, now=first.signed_at + VALIDITY / 2 + timedelta(seconds=1))
    assert later.token != first.token


@pytest.mark.parametrize("count", [1, 7])
def test_indices_are_allocated_in_order(session, count):
    """Allocation hands out consecutive fresh indices and moves the counter past them."""
    first = status_list.allocate_indices(session, count)
    second = status_list.allocate_indices(session, 1)
    assert len(first) == count and second.start == first.stop

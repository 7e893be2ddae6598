"""The status list: IETF Token Status List, 2 bits per card, rebuilt when a status changes."""

import base64
import json
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
TTL_SECONDS = 300


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
    return status_list.current_status_list(session, signer, SUBJECT, VALIDITY, ttl_seconds=TTL_SECONDS, now=now)


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


def test_the_lists_ttl_is_the_given_max_age(app, session, signer, make_card):
    """The token's ttl is the HTTP max-age it is served with, not half its validity."""
    make_card()
    _, payload, _ = decode_list(app, session, current(session, signer).token)
    assert payload["ttl"] == TTL_SECONDS


def test_a_changed_ttl_signs_a_new_list(app, session, signer, make_card):
    """A list cached with another ttl (a configuration change) is signed again."""
    make_card()
    first = current(session, signer)
    session.commit()
    again = status_list.current_status_list(session, signer, SUBJECT, VALIDITY, ttl_seconds=60)
    assert again.token != first.token
    assert decode_list(app, session, again.token)[1]["ttl"] == 60


def test_a_new_card_signs_a_new_list_that_covers_it(app, session, signer, make_card):
    """Issuing a card grows the list at once, so an offline verifier's next list holds its index."""
    make_card()
    first = current(session, signer)
    session.commit()
    card = make_card()
    _, _, packed = decode_list(app, session, current(session, signer).token)
    assert status_list.status_at(packed, card.status_index) == status_list.VALID
    assert current(session, signer).token != first.token


@pytest.mark.parametrize(("cards", "padding"), [(1, 3), (2, 2), (3, 1), (4, 0), (5, 3)])
def test_the_padding_after_the_last_index_reads_unassigned(app, session, signer, make_card, cards, padding):
    """Statuses past the last card, to the end of the last byte, are 3: no card holds them."""
    made = [make_card() for _ in range(cards)]
    _, _, packed = decode_list(app, session, current(session, signer).token)
    size = max(card.status_index for card in made) + 1
    assert len(packed) * 4 - size == padding
    assert [status_list.status_at(packed, index) for index in range(size)] == [0] * size
    assert [status_list.status_at(packed, size + i) for i in range(padding)] == [status_list.UNASSIGNED] * padding
    assert status_list.status_at(packed, len(packed) * 4) == status_list.UNASSIGNED


def read(app, session, token, now):
    keys = load_keyring(session, app.config["KEYS_DIR"]).verifying_keys
    return status_list.read_status_list_token(token, keys, subject=SUBJECT, now=now)


def test_reading_a_list_gives_its_statuses_and_lifetime(app, session, signer, make_card):
    """A verifier reads statuses by index, with the list's iat, exp and ttl."""
    card = make_card()
    card_service.suspend_card(session, card, "check", TEST_ACTOR)
    session.commit()
    signed = current(session, signer)
    read_list = read(app, session, signed.token, signed.signed_at)
    assert read_list.status(card.status_index) == status_list.SUSPENDED
    assert read_list.ttl_seconds == TTL_SECONDS
    assert read_list.expires_at - read_list.issued_at == VALIDITY


def test_an_expired_list_is_unusable(app, session, signer, make_card):
    """At or after its exp a list gives no status at all."""
    make_card()
    signed = current(session, signer)
    with pytest.raises(status_list.StatusListUnusable) as refusal:
        read(app, session, signed.token, signed.signed_at + VALIDITY)
    assert refusal.value.reason == "expired"
    assert read(app, session, signed.token, signed.signed_at + VALIDITY - timedelta(seconds=1))


def _with_header(token, header):
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return encoded + token[token.index(".") :]


def _resigned(token, signer, header=None, **payload_changes):
    payload = jwt.decode(token, options={"verify_signature": False})
    payload.update(payload_changes)
    headers = {"kid": signer.kid, "typ": status_list.TOKEN_TYPE, **(header or {})}
    return jwt.encode(payload, signer.private_key, algorithm="ES256", headers=headers)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda token, signer: _resigned(token, signer, header={"typ": "JWT"}), "not_a_status_list"),
        (lambda token, signer: _resigned(token, signer, header={"kid": "zzzzzz"}), "unknown_key"),
        (
            lambda token, signer: _with_header(token, {"alg": "ES256", "kid": ["a"], "typ": "statuslist+jwt"}),
            "malformed",
        ),
        (lambda token, signer: token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB"), "bad_signature"),
        (
            lambda token, signer: _resigned(token, signer, sub="https://elsewhere.example/statuslists/1"),
            "not_a_status_list",
        ),
        (
            lambda token, signer: _resigned(token, signer, status_list={"bits": 1, "lst": "eNoDAAAAAAE"}),
            "unsupported_bits",
        ),
        (lambda token, signer: _resigned(token, signer, status_list={"bits": 2, "lst": "bm90IHpsaWI"}), "malformed"),
        (lambda token, signer: "not.a.token", "malformed"),
    ],
    ids=["typ-jwt", "unknown-kid", "kid-a-list", "bad-signature", "other-subject", "bits-1", "lst-not-zlib", "garbage"],
)
def test_lists_a_verifier_must_not_read(app, session, signer, make_card, change, reason):
    """Wrong typ, key, signature, subject, bits or encoding: the list is unusable, with its reason."""
    make_card()
    signed = current(session, signer)
    with pytest.raises(status_list.StatusListUnusable) as refusal:
        read(app, session, change(signed.token, signer), signed.signed_at)
    assert refusal.value.reason == reason

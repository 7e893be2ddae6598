"""Device bindings: one current phone per card, each binding with its own status index (VALID while
current, REVOKED once replaced), keys checked and bound once, audited without the key; the
holder-bound token carries the printed card's claims with `cnf` and `ds`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from jwt.utils import base64url_decode, base64url_encode
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.conftest import TEST_ACTOR
from tests.fixtures.live import Phone
from webapp.models import AuditEvent, CardDevice, RevocationReason, utcnow
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.devices import (
    DeviceKeyInvalid,
    DeviceKeyUsed,
    DeviceNotCurrent,
    bind_device,
    current_device,
    holder_token,
    thumbprint,
)
from webapp.services.cards.lifecycle import CardNotValidToday
from webapp.services.cards.tokens import verify_card_token
from webapp.services.trust import status_list
from webapp.services.trust.signing_keys import load_keyring
from webapp.services.trust.status_list import REVOKED, VALID

SUBJECT = "https://carte.test/statuslists/1"


def bind(session, card, phone=None, **options):
    device = bind_device(session, card, (phone or Phone.new()).device_key, actor=TEST_ACTOR, **options)
    session.commit()
    return device


def statuses(app, session, signer, *indices):
    token = status_list.current_status_list(session, signer, SUBJECT, timedelta(days=1), ttl_seconds=300).token
    keys = load_keyring(session, app.config["KEYS_DIR"]).verifying_keys
    listed = status_list.read_status_list_token(token, keys, subject=SUBJECT, now=utcnow())
    return [listed.status(index) for index in indices]


def test_a_first_phone_is_bound_with_its_own_index(session, make_card):
    """The binding keeps the key, its hex SHA-256 thumbprint and a fresh index that is not the card's."""
    card = make_card()
    phone = Phone.new()
    device = bind(session, card, phone)
    assert current_device(session, card) == device
    assert device.public_key == phone.device_key and len(device.public_key) == 87
    assert device.thumbprint == thumbprint(phone.device_key) and len(device.thumbprint) == 64
    assert device.status_index != card.status_index and device.replaced_at is None
    assert device.user_id is None  # TEST_ACTOR is no signed-in person


def test_a_new_phone_replaces_the_last_and_revokes_its_index(app, session, signer, make_card):
    """Binding a second phone ends the first (replaced_at) and the list reads REVOKED at its index."""
    card = make_card()
    first = bind(session, card)
    assert statuses(app, session, signer, first.status_index, card.status_index) == [VALID, VALID]
    second = bind(session, card)
    session.refresh(first)
    assert first.replaced_at is not None and second.replaced_at is None
    assert current_device(session, card) == second
    assert statuses(app, session, signer, first.status_index, second.status_index, card.status_index) == [
        REVOKED,
        VALID,
        VALID,
    ]


def test_binding_and_replacing_are_audited_without_the_key(session, make_card):
    """card.device_bound, then card.device_replaced with before and after: a thumbprint prefix, no key."""
    card = make_card()
    first_phone, second_phone = Phone.new(), Phone.new()
    first = bind(session, card, first_phone)
    second = bind(session, card, second_phone)
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("card.device_%")).order_by(AuditEvent.seq)
    ).all()
    assert [event.action for event in events] == ["card.device_bound", "card.device_replaced"]
    assert events[1].before["device_id"] == first.id and events[1].after["device_id"] == second.id
    assert events[1].after["thumbprint"] == second.thumbprint[:12]
    for event in events:
        text = repr((event.before, event.after))
        assert first_phone.device_key not in text and second_phone.device_key not in text
        assert first.thumbprint not in text and second.thumbprint not in text


def test_the_same_key_again_is_the_current_binding(session, make_card):
    """A retried activation with the same phone key changes nothing."""
    card = make_card()
    phone = Phone.new()
    device = bind(session, card, phone)
    assert bind(session, card, phone) == device
    assert (
        session.scalar(select(CardDevice.id).where(CardDevice.card_id == card.id).where(CardDevice.id != device.id))
        is None
    )


def test_a_key_binds_once(session, make_card):
    """A key already bound to another card, or replaced on this one, is refused."""
    card, other = make_card(), make_card()
    phone = Phone.new()
    bind(session, card, phone)
    with pytest.raises(DeviceKeyUsed):
        bind(session, other, phone)
    session.rollback()
    bind(session, card)
    with pytest.raises(DeviceKeyUsed):
        bind(session, card, phone)


def _point(raw: bytes) -> str:
    return base64url_encode(raw).decode("ascii")


VALID_KEY = Phone.new().device_key
RAW = base64url_decode(VALID_KEY)


@pytest.mark.parametrize(
    "device_key",
    [
        "",
        VALID_KEY[:-1],  # 86 characters
        VALID_KEY + "A",  # 88
        VALID_KEY[:-1] + "=",  # not base64url
        VALID_KEY[:-1] + "+",
        _point(b"\x02" + RAW[1:]),  # not uncompressed
        _point(RAW[:-1] + bytes([RAW[-1] ^ 1])),  # y off the curve
        _point(b"\x04" + b"\x00" * 64),  # the point at infinity's coordinates: not on the curve
        "A" * 87,
    ],
)
def test_a_key_that_is_no_p256_point_is_refused(session, make_card, device_key):
    """device_key_invalid for anything but 87 base64url characters of an uncompressed P-256 point."""
    card = make_card()
    with pytest.raises(DeviceKeyInvalid) as refusal:
        bind_device(session, card, device_key, actor=TEST_ACTOR)
    assert refusal.value.code == "device_key_invalid"
    assert current_device(session, card) is None


def test_a_revoked_card_binds_no_phone(session, make_card):
    """A revoked card cannot take a phone."""
    card = make_card()
    card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    with pytest.raises(CardNotValidToday):
        bind(session, card)


def test_the_database_holds_one_current_binding_per_card(session, make_card):
    """The partial unique index refuses a second current binding, whatever the service does."""
    card = make_card()
    device = bind(session, card)
    phone = Phone.new()
    session.add(
        CardDevice(
            card_id=card.id,
            public_key=phone.device_key,
            thumbprint=thumbprint(phone.device_key),
            status_index=device.status_index + 1000,
            bound_at=utcnow(),
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_the_holder_token_is_the_card_with_cnf_and_ds(app, session, signer, make_card):
    """Signed by the card key: the printed token's six claims, cnf.k the phone's key, ds the binding's index."""
    card = make_card()
    phone = Phone.new()
    device = bind(session, card, phone)
    token = holder_token(session, card, device, signer, utcnow())
    keys = load_keyring(session, app.config["KEYS_DIR"]).verifying_keys
    claims = verify_card_token(token, keys)
    printed = verify_card_token(card.token, keys)
    assert (claims.number, claims.name, claims.trade, claims.region) == (
        printed.number,
        printed.name,
        printed.trade,
        printed.region,
    )
    assert claims.expires_at == card.expires_at and claims.status_index == card.status_index
    assert claims.device_key == phone.device_key and claims.device_index == device.status_index
    assert list(claims.to_payload()) == ["cn", "n", "t", "r", "exp", "sl", "cnf", "ds"]


def test_no_holder_token_for_a_replaced_phone_or_a_revoked_card(session, signer, make_card):
    """A replaced binding, another card's binding, or a card not valid today gets no token."""
    card, other = make_card(), make_card()
    first = bind(session, card)
    bind(session, card)
    session.refresh(first)
    with pytest.raises(DeviceNotCurrent):
        holder_token(session, card, first, signer, utcnow())
    with pytest.raises(DeviceNotCurrent):
        holder_token(session, other, current_device(session, card), signer, utcnow())
    card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    with pytest.raises(CardNotValidToday):
        holder_token(session, card, current_device(session, card), signer, utcnow())

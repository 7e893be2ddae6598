"""Signing in with a code sent by SMS (webapp/services/accounts/sms_codes.py): the code goes through
the console gateway, opens the account once within 10 minutes, a number with no account or no phone
gets the same answer, sends are capped and guessing locks after 5 wrong codes."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.services.accounts.test_sign_in import ClockCounters
from tests.services.cards.test_activation import issue
from tests.services.cards.test_card_app import ARABIC_DIGITS, activate
from webapp.models import AuditEvent, User, utcnow
from webapp.services.accounts.sms import ConsoleSmsGateway
from webapp.services.accounts.sms_codes import (
    SmsCodeLocked,
    SmsCodeNotSent,
    SmsCodePolicy,
    SmsCodeRefused,
    SmsCodeSendCapped,
    normalise_code,
    send_sign_in_code,
    sign_in_with_code,
)

POLICY = SmsCodePolicy(key=b"s" * 32)
CLIENT = "203.0.113.9"


@pytest.fixture
def counters() -> ClockCounters:
    return ClockCounters()


@pytest.fixture
def artisan_card(session, counters, make_card):
    """A card whose holder activated it with a phone number."""
    card = make_card()
    activate(session, counters, card, issue(session, card), phone="06 12 34 56 78")
    session.commit()
    return card


def send(session, counters, number, *, gateway=None, now=None):
    send_sign_in_code(
        session,
        number,
        CLIENT,
        gateway=gateway or ConsoleSmsGateway(),
        compose=lambda code: f"code {code}",
        counters=counters,
        policy=POLICY,
        now=now,
    )
    session.commit()


def sent_code(caplog) -> str:
    """The last code the console gateway logged."""
    return re.findall(r"SMS to \+212612345678: code (\d{6})", caplog.text)[-1]


def use(session, counters, number, code, now=None):
    return sign_in_with_code(session, number, code, CLIENT, counters=counters, policy=POLICY, now=now)


def actions(session) -> list[str]:
    return session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()


def test_the_code_goes_by_the_console_gateway_and_signs_the_artisan_in(session, counters, artisan_card, caplog):
    """The code is logged by the console gateway, stored hashed, opens the account once; audited without it."""
    caplog.set_level(logging.INFO, logger="carte.sms")
    send(session, counters, artisan_card.number)
    code = sent_code(caplog)
    account = session.scalar(select(User).where(User.artisan_id == artisan_card.artisan_id))
    assert account.sign_in_code_hash and code not in account.sign_in_code_hash
    assert use(session, counters, artisan_card.number, code).id == account.id
    session.commit()
    assert account.sign_in_code_hash is None and account.sign_in_code_expires_at is None
    assert actions(session)[-2:] == ["auth.sign_in_code_sent", "auth.sign_in"]
    events = session.scalars(select(AuditEvent)).all()
    assert not any(code in str(event.after) for event in events)


@pytest.mark.parametrize(
    "typed",
    [lambda n: n.lower(), lambda n: f"{n[:5]} {n[5:]}", lambda n: n.translate(ARABIC_DIGITS)],
    ids=["lower case", "grouped", "arabic digits"],
)
def test_the_card_number_and_the_code_may_be_typed_any_way(session, counters, artisan_card, caplog, typed):
    """Card number in any case, grouping or digits; the code in Arabic digits with a space."""
    caplog.set_level(logging.INFO, logger="carte.sms")
    send(session, counters, typed(artisan_card.number))
    code = sent_code(caplog)
    spaced = f"{code[:3]} {code[3:]}".translate(ARABIC_DIGITS)
    assert use(session, counters, typed(artisan_card.number), spaced).artisan_id == artisan_card.artisan_id


def test_a_code_is_used_once(session, counters, artisan_card, caplog):
    """The second use of a code is refused."""
    caplog.set_level(logging.INFO, logger="carte.sms")
    send(session, counters, artisan_card.number)
    code = sent_code(caplog)
    use(session, counters, artisan_card.number, code)
    session.commit()
    with pytest.raises(SmsCodeRefused):
        use(session, counters, artisan_card.number, code)


def test_a_code_expires_after_10_minutes(session, counters, artisan_card, caplog):
    """A right code typed after its 10 minutes is refused (audited as expired)."""
    caplog.set_level(logging.INFO, logger="carte.sms")
    sent_at = utcnow()
    send(session, counters, artisan_card.number, now=sent_at)
    with pytest.raises(SmsCodeRefused):
        use(session, counters, artisan_card.number, sent_code(caplog), now=sent_at + timedelta(minutes=10))
    assert session.scalar(select(AuditEvent.reason).order_by(AuditEvent.seq.desc()).limit(1)) == "expired"


def test_a_new_code_replaces_the_last(session, counters, artisan_card, caplog):
    """One live code per account: the earlier one no longer opens it."""
    caplog.set_level(logging.INFO, logger="carte.sms")
    send(session, counters, artisan_card.number)
    first = sent_code(caplog)
    send(session, counters, artisan_card.number)
    second = sent_code(caplog)
    if first != second:
        with pytest.raises(SmsCodeRefused):
            use(session, counters, artisan_card.number, first)
    assert use(session, counters, artisan_card.number, second).artisan_id == artisan_card.artisan_id


@pytest.mark.parametrize("wrong", ["", "12345", "1234567", "abcdef"])
def test_malformed_codes_are_wrong_codes(session, counters, artisan_card, wrong):
    """Anything that is not 6 digits is refused like a wrong code."""
    send(session, counters, artisan_card.number)
    with pytest.raises(SmsCodeRefused):
        use(session, counters, artisan_card.number, wrong)


def test_guessing_locks_after_5_wrong_codes_even_the_right_one(session, counters, artisan_card, caplog):
    """The 5th wrong code locks the account's codes; the right code is then refused; audited."""
    caplog.set_level(logging.INFO, logger="carte.sms")
    send(session, counters, artisan_card.number)
    code = sent_code(caplog)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(4):
        with pytest.raises(SmsCodeRefused) as refusal:
            use(session, counters, artisan_card.number, wrong)
        assert not isinstance(refusal.value, SmsCodeLocked)
    with pytest.raises(SmsCodeLocked):
        use(session, counters, artisan_card.number, wrong)
    with pytest.raises(SmsCodeLocked):
        use(session, counters, artisan_card.number, code)
    assert "auth.sign_in_code_locked" in actions(session)
    counters.now += POLICY.lock_minutes * 60
    assert use(session, counters, artisan_card.number, code).artisan_id == artisan_card.artisan_id


@pytest.mark.parametrize("case", ["no account", "no phone", "not a card number"])
def test_no_phone_gets_the_same_answer_and_nothing_is_sent(session, counters, make_card, caplog, case):
    """No account, an account without a phone, or garbage: the same silent return, no SMS, a later code refused."""
    caplog.set_level(logging.INFO, logger="carte.sms")
    card = make_card()
    if case == "no phone":
        activate(session, counters, card, issue(session, card))
        session.commit()
    number = "not a number" if case == "not a card number" else card.number
    assert send(session, counters, number) is None
    assert "SMS to" not in caplog.text
    with pytest.raises(SmsCodeRefused):
        use(session, counters, number, "123456")


@pytest.mark.parametrize("has_phone", [True, False], ids=["phone", "no phone"])
def test_sends_are_capped_at_3_an_hour_for_any_number(session, counters, make_card, has_phone):
    """The 4th code in an hour is refused, whether or not the card has a phone; an hour later it goes."""
    card = make_card()
    activate(session, counters, card, issue(session, card), phone="0612345678" if has_phone else None)
    session.commit()
    for _ in range(3):
        send(session, counters, card.number)
    with pytest.raises(SmsCodeSendCapped):
        send(session, counters, card.number.lower())
    counters.now += 3600
    send(session, counters, card.number)


def test_a_failed_gateway_is_a_named_error(session, counters, artisan_card):
    """A provider that fails gives SmsCodeNotSent (the caller rolls back), not a crash."""

    class Broken:
        def send(self, phone: str, text: str) -> None:
            raise OSError("provider down")

    with pytest.raises(SmsCodeNotSent):
        send(session, counters, artisan_card.number, gateway=Broken())


@pytest.mark.parametrize(
    "typed,expected", [("123456", "123456"), ("١٢٣ ٤٥٦", "123456"), ("12-34-56", "123456"), ("12345", None)]
)
def test_normalise_code(typed, expected):
    """Six digits in any script, with spaces or dashes; anything else is None."""
    assert normalise_code(typed) == expected

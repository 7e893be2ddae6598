"""Activation codes: one live code per card, stored as a keyed hash, single-use, expiring, with one
answer for a wrong code or a wrong birth date, guessing locked per card and per client address, and
every step audited without the code. Time is moved by passing `now` and advancing the counters'
clock, never by sleeping."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from limits.storage import storage_from_string
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.conftest import TEST_ACTOR
from tests.fixtures.outages import closed_port
from tests.services.accounts.test_sign_in import ClockCounters
from webapp.extensions import AttemptCounters, RateLimitStoreUnavailable
from webapp.models import ActivationCode, AuditEvent, RevocationReason, utcnow
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.activation import (
    ActivationCardLocked,
    ActivationCardUnavailable,
    ActivationClientLocked,
    ActivationCodeExpired,
    ActivationCodeSuperseded,
    ActivationCodeUsed,
    ActivationDetailsWrong,
    ActivationPolicy,
    NoCodeForCard,
    check_activation,
    code_hash,
    consume_activation_code,
    issue_activation_code,
    normalize_code,
)

POLICY = ActivationPolicy(key=b"k" * 32, validity_days=60, card_failures=3, client_failures=5, minutes=60)
CLIENT = "203.0.113.7"
BIRTH = date(1980, 5, 17)  # the factory's birth date
CODE_FORM = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


@pytest.fixture
def counters() -> ClockCounters:
    return ClockCounters()


@pytest.fixture
def card(make_card):
    return make_card()


def issue(session, card, **options):
    code = issue_activation_code(session, card, TEST_ACTOR, POLICY, **options)
    session.commit()
    return code


def check(session, counters, number, code, birth=BIRTH, client=CLIENT, **options):
    """check_activation, committing what it wrote whether it refused or not (as the caller must)."""
    try:
        return check_activation(session, number, code, birth, client, counters=counters, policy=POLICY, **options)
    finally:
        session.commit()


def failures(session):
    return session.scalars(
        select(AuditEvent.reason).where(AuditEvent.action == "card.activation_failed").order_by(AuditEvent.seq)
    ).all()


def test_a_code_opens_its_card_once(session, counters, card):
    """A new code reads XXXX-XXXX-XXXX (Crockford, 60 bits), opens its card, and is used only once."""
    code = issue(session, card)
    assert CODE_FORM.match(code)
    activation = check(session, counters, card.number, code)
    assert activation.card_id == card.id
    consume_activation_code(session, activation, CLIENT, counters)
    session.commit()
    assert activation.used_at is not None
    with pytest.raises(ActivationCodeUsed):
        check(session, counters, card.number, code)
    with pytest.raises(ActivationCodeUsed):
        consume_activation_code(session, activation, CLIENT, counters)


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code.lower(),
        lambda code: code.replace("-", ""),
        lambda code: code.replace("-", " "),
        lambda code: f"  {code.replace('-', '').lower()}  ",
        lambda code: " ".join(code.replace("-", "")),
    ],
    ids=["lower_case", "no_dashes", "spaces", "padded_lower", "spaced_out"],
)
def test_typed_forms_of_a_code_are_accepted(session, counters, card, typed):
    """A code typed in lower case, without dashes, or with spaces is the same code."""
    code = issue(session, card)
    assert check(session, counters, card.number.lower(), typed(code)).card_id == card.id


@pytest.mark.parametrize(
    ("typed", "canonical"), [("oi1l-0000-zzzz", "0111-0000-ZZZZ"), ("ABC", None), ("U" * 12, None)]
)
def test_normalize_code(typed, canonical):
    """Look-alikes are read as digits; a wrong length or a character outside the alphabet is no code."""
    expected = canonical.replace("-", "") if canonical else None
    assert normalize_code(typed) == expected


def _used(session, card, code, counters):
    activation = check_activation(session, card.number, code, BIRTH, CLIENT, counters=ClockCounters(), policy=POLICY)
    consume_activation_code(session, activation, CLIENT, counters)
    session.commit()
    return code


def _superseded(session, card, code, counters):
    issue(session, card)
    return code


def _wrong(session, card, code, counters):
    other = "0000-0000-0000" if code != "0000-0000-0000" else "1111-1111-1111"
    return other


@pytest.mark.parametrize(
    ("arrange", "birth", "later", "refusal", "reason"),
    [
        (_wrong, BIRTH, timedelta(0), ActivationDetailsWrong, "wrong_code"),
        (lambda s, c, code, k: code, date(1980, 5, 18), timedelta(0), ActivationDetailsWrong, "wrong_birth_date"),
        (lambda s, c, code, k: code, BIRTH, timedelta(days=60), ActivationCodeExpired, "expired"),
        (_used, BIRTH, timedelta(0), ActivationCodeUsed, "used"),
        (_superseded, BIRTH, timedelta(0), ActivationCodeSuperseded, "superseded"),
        (lambda s, c, code, k: "XX", BIRTH, timedelta(0), ActivationDetailsWrong, "wrong_code"),
    ],
    ids=["wrong_code", "wrong_birth_date", "expired", "used", "superseded", "malformed_code"],
)
def test_refusals(session, counters, card, arrange, birth, later, refusal, reason):
    """Each bad input gets its named refusal and one audited failure with its reason."""
    code = issue(session, card)
    typed = arrange(session, card, code, counters)
    with pytest.raises(refusal):
        check(session, counters, card.number, typed, birth=birth, now=utcnow() + later)
    assert failures(session) == [reason]


def test_wrong_code_and_wrong_birth_date_answer_alike(session, counters, card):
    """A guesser cannot tell whether the code or the birth date was wrong: same code, same words."""
    code = issue(session, card)
    answers = []
    for typed, birth in [("0000-0000-0000", BIRTH), (code, date(1999, 1, 1))]:
        with pytest.raises(ActivationDetailsWrong) as refused:
            check(session, counters, card.number, typed, birth=birth)
        answers.append((refused.value.code, str(refused.value), refused.value.http_status))
    assert answers[0] == answers[1]


def test_a_dead_code_does_not_tell_the_birth_date(session, counters, card):
    """An expired code is refused as expired whatever the birth date typed (no birth-date oracle)."""
    code = issue(session, card)
    later = utcnow() + timedelta(days=61)
    for birth in (BIRTH, date(1999, 1, 1)):
        with pytest.raises(ActivationCodeExpired):
            check(session, counters, card.number, code, birth=birth, now=later)


@pytest.mark.parametrize(
    ("number", "reason"),
    [("0000000000", "unknown_card"), ("not a number", "unknown_card"), ("revoked", "card_not_in_force")],
)
def test_unknown_or_revoked_card(session, counters, make_card, number, reason):
    """No card, a mistyped number or a revoked card: one refusal, audited, counted against the client."""
    card = make_card()
    code = issue(session, card)
    if number == "revoked":
        card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
        session.commit()
        number = card.number
    with pytest.raises(ActivationCardUnavailable):
        check(session, counters, number, code)
    assert failures(session) == [reason]
    assert counters.get(f"activation/client-failures/{CLIENT}") == 1


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_no_code_for_a_card_not_in_force(session, make_card, state):
    """A revoked or expired card gets no code (a suspended one does: the app shows it suspended)."""
    card = make_card(now=utcnow() - timedelta(days=6 * 366)) if state == "expired" else make_card()
    if state == "revoked":
        card_service.revoke_card(session, card, RevocationReason.FRAUD, TEST_ACTOR)
        session.commit()
    with pytest.raises(NoCodeForCard):
        issue_activation_code(session, card, TEST_ACTOR, POLICY)
    suspended = make_card()
    card_service.suspend_card(session, suspended, "inquiry", TEST_ACTOR)
    assert CODE_FORM.match(issue(session, suspended))


def test_guessing_past_the_card_limit_locks_the_card(session, counters, card):
    """After `card_failures` failures the card refuses even its right code, until the lock delay passes."""
    code = issue(session, card)
    for attempt in range(POLICY.card_failures):
        expected = ActivationCardLocked if attempt == POLICY.card_failures - 1 else ActivationDetailsWrong
        with pytest.raises(expected):
            check(session, counters, card.number, f"{attempt:04d}-0000-0000")
    with pytest.raises(ActivationCardLocked):
        check(session, counters, card.number, code, client="198.51.100.9")
    assert failures(session)[-1] == "card_locked"
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "card.activation_locked")) is not None
    counters.now += POLICY.seconds
    assert check(session, counters, card.number, code).card_id == card.id


def test_guessing_past_the_client_limit_locks_the_client(session, counters, make_card):
    """After `client_failures` failures on any cards, the address is refused, right code or not."""
    cards = [make_card() for _ in range(POLICY.client_failures)]
    codes = [issue(session, card) for card in cards]
    for card in cards[:-1]:
        with pytest.raises(ActivationDetailsWrong):
            check(session, counters, card.number, "0000-0000-0000")
    with pytest.raises(ActivationClientLocked):
        check(session, counters, "0000000000", "0000-0000-0000")
    with pytest.raises(ActivationClientLocked):
        check(session, counters, cards[-1].number, codes[-1])
    assert check(session, counters, cards[-1].number, codes[-1], client="198.51.100.9").card_id == cards[-1].id
    counters.now += POLICY.seconds
    assert check(session, counters, cards[-1].number, codes[-1]).card_id == cards[-1].id


def test_a_store_that_cannot_answer_refuses(session, card):
    """Redis down: the activation is refused (fail closed), never let through uncounted."""
    code = issue(session, card)
    down = AttemptCounters(storage_from_string(f"redis://127.0.0.1:{closed_port()}", socket_connect_timeout=1), "")
    with pytest.raises(RateLimitStoreUnavailable):
        check_activation(session, card.number, code, BIRTH, CLIENT, counters=down, policy=POLICY)


def test_one_live_code_per_card_in_the_database(session, card):
    """The database refuses a second live code for a card, whatever the service does."""
    issue(session, card)
    now = utcnow()
    session.add(ActivationCode(card_id=card.id, code_hash="f" * 64, issued_at=now, expires_at=now + timedelta(1)))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_codes_are_stored_as_keyed_hashes_and_never_audited(session, counters, card):
    """Neither the code nor its hash is stored in clear or written to the audit trail."""
    code = issue(session, card)
    stored = session.scalars(select(ActivationCode.code_hash).where(ActivationCode.card_id == card.id)).all()
    canonical = normalize_code(code)
    assert stored == [code_hash(POLICY, card.number, canonical)]
    with pytest.raises(ActivationDetailsWrong):
        check(session, counters, card.number, code, birth=date(1999, 1, 1))
    consume_activation_code(session, check(session, counters, card.number, code), CLIENT, counters)
    session.commit()
    events = session.scalars(select(AuditEvent).where(AuditEvent.card_id == card.id)).all()
    actions = [event.action for event in events]
    assert {"card.activation_code_issue", "card.activation_failed", "card.activation_code_use"} <= set(actions)
    trail = json.dumps([[e.actor, e.reason, e.before, e.after] for e in events])
    for secret in (code, canonical, stored[0], code.lower()):
        assert secret not in trail

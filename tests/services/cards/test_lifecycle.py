"""The card lifecycle: each change is audited, illegal transitions raise named errors."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.conftest import TEST_ACTOR, VALIDITY_YEARS
from webapp.models import AuditEvent, Card, CardStatus, RevocationReason, utcnow
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.tokens import verify_card_token
from webapp.services.errors import ReasonRequired
from webapp.services.trust import signing_keys
from webapp.services.trust.signing_keys import load_keyring


def audit_actions(session, card):
    return session.scalars(select(AuditEvent.action).where(AuditEvent.card_id == card.id).order_by(AuditEvent.id)).all()


def test_issue_signs_a_token_for_the_artisan(session, make_card, app):
    """A new card is active, expires in five years, and its token carries its number and index."""
    card = make_card()
    keys = load_keyring(session, app.config["KEYS_DIR"]).verifying_keys
    claims = verify_card_token(card.token, keys)
    assert card.status == CardStatus.ACTIVE
    assert (claims.number, claims.status_index, claims.name) == (card.number, card.status_index, "Khadija Bennani")
    assert claims.expires_at == card.expires_at
    assert card.expires_at.year == card.issued_at.year + VALIDITY_YEARS
    assert audit_actions(session, card) == ["card.issue"]


def test_status_indices_are_distinct_and_never_reused(session, make_card, signer):
    """Each card gets the next index; a revoked card keeps its index, a replacement gets a new one."""
    first, second = make_card(), make_card()
    assert second.status_index == first.status_index + 1
    replacement = card_service.replace_card(session, first, signer, TEST_ACTOR, validity_years=5)
    session.commit()
    assert replacement.status_index == second.status_index + 1
    assert first.status_index not in {second.status_index, replacement.status_index}


def test_an_artisan_has_one_card_in_force(session, make_card, signer):
    """Issuing a second card to an artisan whose card is in force is refused by the database."""
    card = make_card()
    with pytest.raises(card_service.ArtisanAlreadyHasCard):
        card_service.issue_card(session, card.artisan, signer, TEST_ACTOR, validity_years=5)
    session.rollback()
    assert session.scalar(select(Card.id).where(Card.artisan_id == card.artisan_id, Card.id != card.id)) is None


def test_after_revocation_the_artisan_can_get_a_new_card(session, make_card, signer):
    """A revoked card no longer counts as in force."""
    card = make_card()
    card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    new_card = card_service.issue_card(session, card.artisan, signer, TEST_ACTOR, validity_years=5)
    session.commit()
    assert new_card.number != card.number


def test_suspend_and_reinstate(session, make_card):
    """Suspension keeps the reason; reinstating makes the card active again; both are audited."""
    card = make_card()
    card_service.suspend_card(session, card, "fee unpaid", TEST_ACTOR)
    assert (card.status, card.status_reason) == (CardStatus.SUSPENDED, "fee unpaid")
    card_service.reinstate_card(session, card, TEST_ACTOR)
    session.commit()
    assert card.status == CardStatus.ACTIVE
    assert audit_actions(session, card) == ["card.issue", "card.suspend", "card.reinstate"]


def test_audit_event_records_who_when_and_before_after(session, make_card):
    """The revocation event names the actor, the reason and the status before and after."""
    card = make_card()
    card_service.revoke_card(session, card, RevocationReason.FRAUD, TEST_ACTOR, note="forged documents")
    session.commit()
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "card.revoke")).one()
    assert event.actor == TEST_ACTOR.label
    assert event.reason == "fraud: forged documents"
    assert event.before["status"] == "active" and event.after["status"] == "revoked"
    assert utcnow() - event.occurred_at < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("prepare", "action", "error"),
    [
        ("revoke", "suspend", card_service.CardAlreadyRevoked),
        ("revoke", "reinstate", card_service.CardAlreadyRevoked),
        ("revoke", "revoke", card_service.CardAlreadyRevoked),
        ("revoke", "renew", card_service.CardAlreadyRevoked),
        ("revoke", "replace", card_service.CardAlreadyRevoked),
        (None, "reinstate", card_service.IllegalTransition),
        ("suspend", "suspend", card_service.IllegalTransition),
        ("suspend", "renew", card_service.IllegalTransition),
    ],
)
def test_illegal_transitions_raise_named_errors(session, make_card, prepare, action, error, signer):
    """A change that the card's status does not allow raises and changes nothing."""
    card = make_card()
    do = {
        "suspend": lambda: card_service.suspend_card(session, card, "x", TEST_ACTOR),
        "reinstate": lambda: card_service.reinstate_card(session, card, TEST_ACTOR),
        "revoke": lambda: card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR),
        "renew": lambda: card_service.renew_card(session, card, signer, TEST_ACTOR, validity_years=5),
        "replace": lambda: card_service.replace_card(session, card, signer, TEST_ACTOR, validity_years=5),
    }
    if prepare:
        do[prepare]()
        session.commit()
    status_before, events_before = card.status, len(audit_actions(session, card))
    with pytest.raises(error):
        do[action]()
    session.rollback()
    assert card.status == status_before
    assert len(audit_actions(session, card)) == events_before


def test_renew_extends_expiry_and_resigns(session, make_card, app, signer):
    """Renewal keeps number and index, moves the expiry and signs a new token."""
    long_ago = utcnow() - timedelta(days=6 * 366)
    card = make_card(now=long_ago)
    old_token, old_expiry = card.token, card.expires_at
    card_service.renew_card(session, card, signer, TEST_ACTOR, validity_years=5)
    session.commit()
    claims = verify_card_token(card.token, load_keyring(session, app.config["KEYS_DIR"]).verifying_keys)
    assert card.token != old_token and card.expires_at > utcnow() > old_expiry
    assert (claims.number, claims.status_index) == (card.number, card.status_index)
    assert audit_actions(session, card)[-1] == "card.renew"


def test_replace_revokes_the_old_card_and_links_the_new_one(session, make_card, signer):
    """The old card is revoked; the new one has a new number, the same artisan, and points back."""
    card = make_card()
    new_card = card_service.replace_card(
        session, card, signer, TEST_ACTOR, validity_years=5, reason=RevocationReason.STOLEN
    )
    session.commit()
    assert card.status == CardStatus.REVOKED and card.status_reason.startswith("stolen")
    assert new_card.artisan_id == card.artisan_id and new_card.number != card.number
    assert new_card.replaces_id == card.id and card.replaced_by == new_card


def test_a_name_over_40_characters_is_refused(session, make_artisan, signer):
    """The token carries at most 40 characters of name, so longer names are refused, not truncated."""
    artisan = make_artisan(first_name_latin="Abderrahmane Mohamed Amine", last_name_latin="Ait Lahcen Oubella")
    with pytest.raises(card_service.NameTooLong):
        card_service.issue_card(session, artisan, signer, TEST_ACTOR, validity_years=5)


def test_get_card_accepts_typed_numbers(session, make_card):
    """Looking a card up by a typed number (spaces, lower case) finds it; a wrong one raises."""
    card = make_card()
    typed = f"{card.number[:5].lower()} {card.number[5:]}"
    assert card_service.get_card(session, typed).id == card.id
    with pytest.raises(card_service.CardNotFound):
        card_service.get_card(session, "0000000000")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Morocco's clock as the pinned tzdata (2026f) has it: UTC+1 outside Ramadan until 20 September
        # 2026, UTC+0 since (the system's older tzdata still says UTC+1 there).
        # An expiry in July 2026 (UTC+1): the day ends at 22:59:59 UTC.
        (datetime(2021, 7, 10, 10, 0, tzinfo=UTC), datetime(2026, 7, 10, 22, 59, 59, tzinfo=UTC)),
        # 23:30 UTC on 22 November 2021 (UTC+1) was already the 23rd; in 2026 that day ends at 23:59:59 UTC.
        (datetime(2021, 11, 22, 23, 30, tzinfo=UTC), datetime(2026, 11, 23, 23, 59, 59, tzinfo=UTC)),
        # 23:30 UTC on 22 November 2026 is still the 22nd (UTC+0).
        (datetime(2026, 11, 22, 23, 30, tzinfo=UTC), datetime(2031, 11, 22, 23, 59, 59, tzinfo=UTC)),
        # 2027: UTC+0 in Ramadan and around it alike.
        (datetime(2022, 2, 10, 12, 0, tzinfo=UTC), datetime(2027, 2, 10, 23, 59, 59, tzinfo=UTC)),
        (datetime(2022, 2, 6, 12, 0, tzinfo=UTC), datetime(2027, 2, 6, 23, 59, 59, tzinfo=UTC)),
        (datetime(2022, 3, 14, 12, 0, tzinfo=UTC), datetime(2027, 3, 14, 23, 59, 59, tzinfo=UTC)),
        # Issued in Ramadan 2026 (UTC+0) at 23:30 UTC: still the 21st in Casablanca.
        (datetime(2026, 3, 21, 23, 30, tzinfo=UTC), datetime(2031, 3, 21, 23, 59, 59, tzinfo=UTC)),
        # 29 February falls back to the 28th.
        (datetime(2028, 2, 29, 12, 0, tzinfo=UTC), datetime(2033, 2, 28, 23, 59, 59, tzinfo=UTC)),
    ],
    ids=[
        "expiry-at-utc-plus-1",
        "late-evening-is-next-day",
        "late-evening-at-utc",
        "expiry-in-ramadan",
        "day-before-ramadan",
        "first-day-after-ramadan",
        "issued-in-ramadan",
        "29-february",
    ],
)
def test_default_expiry_is_the_last_second_of_the_day_in_morocco(now, expected):
    """Valid through the expiry date in Africa/Casablanca, as the pinned tzdata gives its offset."""
    assert card_service.default_expiry(now, 5) == expected


@pytest.mark.parametrize("reason", list(RevocationReason))
def test_revocation_keeps_its_reason_as_a_code(session, make_card, reason):
    """A revoked card records why as a code (the note stays in the text status reason)."""
    card = make_card()
    card_service.revoke_card(session, card, reason, TEST_ACTOR, note="checked by the chamber")
    session.commit()
    assert card.revocation_reason == reason
    assert card.status_reason == f"{reason.value}: checked by the chamber"


def test_the_database_refuses_a_revoked_card_without_its_reason(session, make_card):
    """A CHECK constraint keeps the revocation reason set exactly on revoked cards."""
    card = make_card()
    card.status = CardStatus.REVOKED
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


@pytest.mark.parametrize("reason", sorted(card_service.REVOCATIONS_FOR_CAUSE))
def test_no_new_card_after_a_revocation_for_cause(session, make_card, signer, reason):
    """After a revocation for deceased, fraud or left_trade, a new card is refused with a named error."""
    card = make_card()
    card_service.revoke_card(session, card, reason, TEST_ACTOR)
    with pytest.raises(card_service.RevokedForCause) as refusal:
        card_service.issue_card(session, card.artisan, signer, TEST_ACTOR, validity_years=5)
    assert refusal.value.code == "revoked_for_cause" and card.number in str(refusal.value)
    assert refusal.value.revocation_reason == reason


@pytest.mark.parametrize("reason", [RevocationReason.LOST, RevocationReason.STOLEN])
def test_a_lost_or_stolen_card_does_not_bar_a_new_one(session, make_card, signer, reason):
    """Lost and stolen are no cause: the artisan may get a new card without an override."""
    card = make_card()
    card_service.revoke_card(session, card, reason, TEST_ACTOR)
    assert (
        card_service.issue_card(session, card.artisan, signer, TEST_ACTOR, validity_years=5).artisan_id
        == card.artisan_id
    )


def test_an_override_issues_a_new_card_and_audits_why(session, make_card, signer):
    """With an override reason the card is issued, and its audit event keeps the reason and what it overrode."""
    card = make_card()
    card_service.revoke_card(session, card, RevocationReason.FRAUD, TEST_ACTOR, note="forged diploma")
    new_card = card_service.issue_card(
        session, card.artisan, signer, TEST_ACTOR, validity_years=5, override_reason="  acquitted, court of Fès  "
    )
    session.commit()
    event = session.scalars(select(AuditEvent).where(AuditEvent.card_id == new_card.id)).one()
    assert (event.action, event.reason) == ("card.issue", "acquitted, court of Fès")
    assert event.after["overrides_revocation"] == {"number": card.number, "reason": "fraud"}


@pytest.mark.parametrize("reason", ["", " ", "\t\n"])
def test_an_override_needs_a_reason(session, make_card, signer, reason):
    """A blank override reason is refused."""
    card = make_card()
    card_service.revoke_card(session, card, RevocationReason.DECEASED, TEST_ACTOR)
    with pytest.raises(ReasonRequired):
        card_service.issue_card(session, card.artisan, signer, TEST_ACTOR, validity_years=5, override_reason=reason)


@pytest.mark.parametrize("reason", ["", "   "])
def test_suspend_and_reinstate_refuse_a_blank_reason(session, make_card, reason):
    """Suspending needs a reason; a reason given to reinstate must say something too."""
    card = make_card()
    with pytest.raises(ReasonRequired):
        card_service.suspend_card(session, card, reason, TEST_ACTOR)
    card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    with pytest.raises(ReasonRequired):
        card_service.reinstate_card(session, card, TEST_ACTOR, reason)
    assert card.status == CardStatus.SUSPENDED


@pytest.mark.parametrize("reason", sorted(card_service.REVOCATIONS_FOR_CAUSE))
def test_a_revocation_for_cause_is_no_replacement(session, make_card, signer, reason):
    """A card is not replaced because its holder died, cheated or left the trade."""
    card = make_card()
    with pytest.raises(card_service.NotAReplacementReason):
        card_service.replace_card(session, card, signer, TEST_ACTOR, validity_years=5, reason=reason)
    assert card.status == CardStatus.ACTIVE


def test_reissue_resigns_under_the_signing_key(session, make_card, app, signer):
    """Re-signing keeps number, index and expiry, and changes token and key; audited before and after."""
    card = make_card()
    old_token, old_kid = card.token, card.key_id
    new_key = signing_keys.rotate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
    keyring = load_keyring(session, app.config["KEYS_DIR"])
    card_service.reissue_card(session, card, keyring.require_signer(), TEST_ACTOR)
    session.commit()
    claims = verify_card_token(card.token, keyring.verifying_keys)
    assert card.token != old_token and card.key_id == new_key.kid
    assert (claims.number, claims.status_index, claims.expires_at) == (card.number, card.status_index, card.expires_at)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "card.reissue")).one()
    assert (event.before["key_id"], event.after["key_id"]) == (old_kid, new_key.kid)


def test_a_revoked_card_is_not_resigned(session, make_card, signer):
    """Re-signing a revoked card raises CardAlreadyRevoked."""
    card = make_card()
    card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    with pytest.raises(card_service.CardAlreadyRevoked):
        card_service.reissue_card(session, card, signer, TEST_ACTOR)


def test_find_artisan_by_rna_or_by_any_card_number(session, make_card):
    """An artisan is found by RNA number (any case) or by a card number, even a revoked one."""
    card = make_card()
    card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    artisan = card.artisan
    assert card_service.find_artisan(session, f" {artisan.rna_number.lower()} ").id == artisan.id
    assert card_service.find_artisan(session, card.number.lower()).id == artisan.id
    with pytest.raises(card_service.ArtisanNotFound):
        card_service.find_artisan(session, "RNA-00-0000000")


@pytest.mark.parametrize("state", ["revoked", "suspended", "expired"])
def test_a_card_not_valid_today_is_not_printed(session, make_card, state):
    """A revoked, suspended or expired card raises CardNotValidToday, naming its state."""
    card = make_card(now=utcnow() - timedelta(days=6 * 366)) if state == "expired" else make_card()
    if state == "revoked":
        card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    if state == "suspended":
        card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    with pytest.raises(card_service.CardNotValidToday) as refusal:
        card_service.require_valid_today(card)
    assert f"is {state}" in str(refusal.value)
    assert card_service.require_valid_today(make_card()) is not None


def test_a_second_card_in_force_is_refused_with_its_number(session, make_card, signer):
    """The refusal names the artisan by RNA number and the card already in force."""
    card = make_card()
    with pytest.raises(card_service.ArtisanAlreadyHasCard, match=card.number) as refusal:
        card_service.issue_card(session, card.artisan, signer, TEST_ACTOR, validity_years=5)
    assert card.artisan.rna_number in str(refusal.value)

"""The national roll-out: many cards at once, each signed, indexed and audited."""

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from webapp.models import Artisan, AuditEvent, Card, RevocationReason
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards import rollout
from webapp.services.cards.tokens import verify_card_token
from webapp.services.trust import signing_keys
from webapp.services.trust.signing_keys import load_keyring


def test_bulk_issue_gives_every_artisan_a_signed_card_and_audit_event(session, make_artisan, signer, app):
    """Bulk issuance: one card per artisan, consecutive indices, one audit event each."""
    artisans = [make_artisan() for _ in range(25)]
    issued = rollout.issue_cards_in_bulk(session, artisans, signer, TEST_ACTOR, validity_years=5)
    session.commit()
    cards = session.scalars(select(Card).order_by(Card.status_index)).all()
    keys = load_keyring(session, app.config["KEYS_DIR"]).verifying_keys
    assert issued == len(cards) == 25
    assert [c.status_index for c in cards] == list(range(cards[0].status_index, cards[0].status_index + 25))
    assert all(verify_card_token(c.token, keys).number == c.number for c in cards)
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "card.issue").offset(24)) is not None


def test_issue_to_all_gives_a_card_to_each_artisan_without_one(app, session, make_artisan, make_card, signer):
    """The roll-out skips artisans with a card in force, signs in a second process, and can run again."""
    holder_of_card = make_card().artisan_id
    newcomers = [make_artisan().id for _ in range(7)]
    session.commit()
    database = app.extensions["database"]
    progress = []
    issued = rollout.issue_cards_to_all(
        database.session_scope, signer, TEST_ACTOR, validity_years=5, chunk_size=3, progress=progress.append
    )
    keys = load_keyring(session, app.config["KEYS_DIR"]).verifying_keys
    cards = session.scalars(select(Card).where(Card.artisan_id.in_(newcomers))).all()
    assert issued == 7 and progress == [1, 4, 7]  # a first chunk of a tenth (at least 1), then 3
    assert sorted(c.artisan_id for c in cards) == sorted(newcomers)
    assert all(verify_card_token(c.token, keys).number == c.number for c in cards)
    assert session.scalar(select(func.count()).select_from(Card).where(Card.artisan_id == holder_of_card)) == 1
    assert rollout.issue_cards_to_all(database.session_scope, signer, TEST_ACTOR, validity_years=5) == 0


def test_drawn_numbers_avoid_numbers_already_in_the_register(session, make_card, monkeypatch):
    """A drawn number that a card already has is replaced by another before it is used."""
    existing = make_card().number
    draws = iter([existing, "0123456789", existing, "ABCDEFGHJK"])
    monkeypatch.setattr(rollout, "new_card_number", lambda: next(draws))
    assert sorted(rollout.draw_free_numbers(session, 2)) == ["0123456789", "ABCDEFGHJK"]


def _revoked_artisans(session, make_card, signer, reasons):
    """One artisan per reason, whose only card was revoked for that reason."""
    artisans = {}
    for reason in reasons:
        card = make_card()
        card_service.revoke_card(session, card, reason, TEST_ACTOR)
        artisans[reason] = card.artisan_id
    session.commit()
    return artisans


def test_the_rollout_skips_artisans_revoked_for_cause(session, make_card, make_artisan, signer):
    """Holders leave out artisans whose last card was revoked for deceased, fraud or left_trade."""
    revoked = _revoked_artisans(session, make_card, signer, list(RevocationReason))
    newcomer = make_artisan().id
    session.commit()
    picked = {row.id for row in rollout.holders_without_card(session, 100)}
    for_cause = {revoked[r] for r in card_service.REVOCATIONS_FOR_CAUSE}
    assert picked == {newcomer} | (set(revoked.values()) - for_cause)


def test_an_override_lifts_the_bar_for_later_rollouts(session, make_card, signer):
    """Only the last card counts: after an override card is lost, the roll-out gives the artisan a card again."""
    card = make_card()
    card_service.revoke_card(session, card, RevocationReason.FRAUD, TEST_ACTOR)
    override = card_service.issue_card(
        session, card.artisan, signer, TEST_ACTOR, validity_years=5, override_reason="acquitted"
    )
    card_service.revoke_card(session, override, RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    assert [row.id for row in rollout.holders_without_card(session, 100)] == [card.artisan_id]


def test_roll_out_counts_the_skipped_artisans_by_reason(app, session, make_card, make_artisan, signer):
    """The summary says how many artisans were skipped and why, each counted once across chunks."""
    for reason in [RevocationReason.DECEASED, RevocationReason.FRAUD, RevocationReason.FRAUD, RevocationReason.LOST]:
        _revoked_artisans(session, make_card, signer, [reason])
        for _ in range(2):
            make_artisan()
    session.commit()
    summary = rollout.roll_out(
        app.extensions["database"].session_scope, signer, TEST_ACTOR, validity_years=5, chunk_size=2
    )
    assert summary.issued == 9  # 8 newcomers and the artisan whose card was lost
    assert summary.skipped == {RevocationReason.DECEASED: 1, RevocationReason.FRAUD: 2}
    assert rollout.roll_out(app.extensions["database"].session_scope, signer, TEST_ACTOR, validity_years=5).issued == 0


@pytest.mark.parametrize("chunk_size", [1, 2, 100])
def test_skipped_artisans_after_the_last_holder_are_counted_once(
    app, session, make_card, make_artisan, signer, chunk_size
):
    """Artisans revoked for cause after the last page's holders are counted once, not once more per empty page."""
    make_artisan()
    _revoked_artisans(session, make_card, signer, [RevocationReason.DECEASED, RevocationReason.FRAUD])
    summary = rollout.roll_out(
        app.extensions["database"].session_scope,
        signer,
        TEST_ACTOR,
        validity_years=5,
        chunk_size=chunk_size,
        signing_process=False,
    )
    assert summary.issued == 1
    assert summary.skipped == {RevocationReason.DECEASED: 1, RevocationReason.FRAUD: 1}


def test_roll_out_says_which_cards_it_issued_by_region(app, session, make_artisan, signer):
    """The summary counts the cards by region, and its index ranges give back exactly the numbers issued."""
    for region in ["03", "03", "01", "03", "01"]:
        make_artisan(region_code=region)
    session.commit()
    summary = rollout.roll_out(
        app.extensions["database"].session_scope,
        signer,
        TEST_ACTOR,
        validity_years=5,
        chunk_size=2,
        signing_process=False,
    )
    assert summary.by_region == {"03": 3, "01": 2}
    listed = rollout.cards_issued(session, summary.index_ranges)
    assert sorted(listed) == sorted(session.execute(select(Card.number, Artisan.region_code).join(Artisan)).all())


def _rotated(app, session):
    """Rotate to a new key; the signer of the new key."""
    signing_keys.rotate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
    session.commit()
    return load_keyring(session, app.config["KEYS_DIR"]).require_signer()


def test_reissue_resigns_every_card_in_force_of_a_key(app, session, make_card, signer):
    """Every active and suspended card of the old key is re-signed (one audit event each); revoked ones stay."""
    cards = [make_card() for _ in range(5)]
    card_service.suspend_card(session, cards[0], "inquiry", TEST_ACTOR)
    card_service.revoke_card(session, cards[1], RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    new_signer = _rotated(app, session)
    chunks = []
    done = rollout.reissue_cards_signed_by(
        app.extensions["database"].session_scope,
        signer.kid,
        new_signer,
        TEST_ACTOR,
        chunk_size=2,
        progress=chunks.append,
    )
    session.expire_all()
    keys = load_keyring(session, app.config["KEYS_DIR"]).verifying_keys
    assert done == 4 and chunks == [2, 2]
    assert {c.number: c.key_id for c in cards} == {
        c.number: (signer.kid if c is cards[1] else new_signer.kid) for c in cards
    }
    assert all(
        verify_card_token(c.token, {new_signer.kid: keys[new_signer.kid]}).number == c.number
        for c in cards
        if c is not cards[1]
    )
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "card.reissue")) == 4
    assert signing_keys.cards_in_force_signed_by(session, signer.kid) == 0


def test_an_interrupted_reissue_continues_where_it_stopped(app, session, make_card, signer):
    """A run stopped after its first chunk keeps that chunk; running again re-signs the rest, none twice."""
    for _ in range(3):
        make_card()
    new_signer = _rotated(app, session)
    scope = app.extensions["database"].session_scope

    def interrupt(count):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rollout.reissue_cards_signed_by(scope, signer.kid, new_signer, TEST_ACTOR, chunk_size=2, progress=interrupt)
    assert signing_keys.cards_in_force_signed_by(session, signer.kid) == 1
    assert rollout.reissue_cards_signed_by(scope, signer.kid, new_signer, TEST_ACTOR, chunk_size=2) == 1
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "card.reissue")) == 3


@pytest.mark.parametrize(
    ("kid", "error"), [("nope00", signing_keys.SigningKeyNotFound), (None, signing_keys.KeySignsItsOwnCards)]
)
def test_reissue_refusals(app, session, signer, kid, error):
    """Re-signing is refused for an unknown key and for the signing key itself."""
    with pytest.raises(error):
        rollout.reissue_cards_signed_by(app.extensions["database"].session_scope, kid or signer.kid, signer, TEST_ACTOR)


def test_the_roll_out_events_join_the_chain(app, session, make_artisan, make_card, signer, check_trail):
    """The roll-out's bulk-written events are chained like any other: the whole trail verifies."""
    make_card()
    for _ in range(7):
        make_artisan()
    session.commit()
    database = app.extensions["database"]
    assert rollout.issue_cards_to_all(database.session_scope, signer, TEST_ACTOR, validity_years=5, chunk_size=3) == 7
    report = check_trail()
    assert report.intact, report.problem
    assert report.events == session.scalar(select(func.count()).select_from(AuditEvent)) == 9

"""The national roll-out: many cards at once, each signed, indexed and audited."""

from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from webapp.models import AuditEvent, Card
from webapp.services.cards import rollout
from webapp.services.cards.tokens import verify_card_token
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

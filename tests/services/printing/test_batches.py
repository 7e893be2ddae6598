"""Print batches: which cards a selection takes, within whose scope; the batch's states; reprints;
the files' retention (webapp/services/printing/batches.py). Rendering: tests/services/jobs/test_print_batches.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.fixtures.support import TEST_ACTOR
from webapp.models import (
    AuditEvent,
    CardStatus,
    PrintBatch,
    PrintBatchCard,
    PrintBatchState,
    RevocationReason,
    Role,
    utcnow,
)
from webapp.services.audit import Actor
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.numbers import check_character
from webapp.services.jobs.storage import folder_storage
from webapp.services.printing import batches
from webapp.services.printing.batches import BatchRequest, SelectionKind
from webapp.services.scope import NATIONAL, RecordNotFound, Scope

FES, RABAT = Scope(region_code="03"), Scope(region_code="04")


def prepared(session, request, scope=FES):
    batch, plan = batches.prepare_batch(session, request, scope, TEST_ACTOR)
    session.commit()
    return batch, plan


def card_ids(session, batch):
    return list(
        session.scalars(
            select(PrintBatchCard.card_id).where(PrintBatchCard.batch_id == batch.id).order_by(PrintBatchCard.position)
        )
    )


def test_new_cards_of_the_officers_region_only(session, make_card, make_artisan):
    """`new` takes the issued, never printed cards in force of the officer's region, oldest first."""
    mine = [make_card(make_artisan(region_code="03")) for _ in range(3)]
    make_card(make_artisan(region_code="04"))
    suspended = make_card(make_artisan(region_code="03"))
    card_service.suspend_card(session, suspended, "test", TEST_ACTOR)
    session.commit()
    batch, plan = prepared(session, BatchRequest(SelectionKind.NEW, region_code="04"))  # asks 04: gets 03
    assert batch.region_code == "03"
    assert card_ids(session, batch) == [card.id for card in mine]
    assert (batch.card_count, batch.reprint_count, plan.refused) == (3, 0, [])


def test_a_card_in_a_batch_is_not_put_in_a_second(session, make_card):
    """A card in a prepared (or sent) batch is in no other batch; `new` finds nothing more."""
    make_card()
    prepared(session, BatchRequest(SelectionKind.NEW))
    with pytest.raises(batches.EmptyBatch):
        batches.prepare_batch(session, BatchRequest(SelectionKind.NEW), FES, TEST_ACTOR)
    with pytest.raises(batches.EmptyBatch):
        batches.prepare_batch(session, BatchRequest(SelectionKind.REGION), FES, TEST_ACTOR)


def test_limit_and_replacements(session, make_card, signer):
    """`replacements` takes only cards that replace another; a limit caps any selection."""
    cards = [make_card() for _ in range(3)]
    replacement = card_service.replace_card(
        session, cards[0], signer, TEST_ACTOR, validity_years=5, reason=RevocationReason.LOST
    )
    session.commit()
    batch, _plan = prepared(session, BatchRequest(SelectionKind.REPLACEMENTS))
    assert card_ids(session, batch) == [replacement.id]
    batch, _plan = prepared(session, BatchRequest(SelectionKind.NEW, limit=1))
    assert card_ids(session, batch) == [cards[1].id]


@pytest.mark.parametrize(
    ("which", "reason"),
    [
        ("unknown", batches.NOT_FOUND),
        ("garbage", batches.NOT_FOUND),
        ("other_region", batches.OTHER_REGION),
        ("revoked", batches.NOT_PRINTABLE),
        ("suspended", batches.NOT_PRINTABLE),
        ("expired", batches.NOT_PRINTABLE),
        ("in_batch", batches.IN_BATCH),
    ],
)
def test_typed_numbers_are_refused_with_a_reason(session, make_card, make_artisan, which, reason):
    """Each typed number left out says why; the good ones make the batch."""
    good = make_card()
    if which == "unknown":
        number = "000000000" + check_character("000000000")
    elif which == "garbage":
        number = "not a card"
    else:
        card = make_card(make_artisan(region_code="04" if which == "other_region" else "03"))
        number = card.number
        if which == "revoked":
            card_service.revoke_card(session, card, RevocationReason.FRAUD, TEST_ACTOR)
        elif which == "suspended":
            card_service.suspend_card(session, card, "test", TEST_ACTOR)
        elif which == "expired":
            card.expires_at = utcnow() - timedelta(days=1)
            card.issued_at = utcnow() - timedelta(days=2)
        elif which == "in_batch":
            prepared(session, BatchRequest(SelectionKind.NUMBERS, numbers=(card.number,)))
        session.commit()
    batch, plan = prepared(session, BatchRequest(SelectionKind.NUMBERS, numbers=(good.number.lower(), number)))
    assert card_ids(session, batch) == [good.id]
    assert [(refused.number, refused.reason) for refused in plan.refused] == [(number, reason)]


def test_an_officer_cannot_batch_another_regions_cards(session, make_card, make_artisan):
    """Another region's cards are refused to an officer (by number, and never selected otherwise)."""
    theirs = make_card(make_artisan(region_code="04"))
    with pytest.raises(batches.EmptyBatch):
        batches.prepare_batch(session, BatchRequest(SelectionKind.NEW), FES, TEST_ACTOR)
    plan = batches.plan_batch(session, BatchRequest(SelectionKind.NUMBERS, numbers=(theirs.number,)), FES)
    assert (plan.card_ids, plan.refused[0].reason) == ([], batches.OTHER_REGION)
    batch, _plan = prepared(session, BatchRequest(SelectionKind.NUMBERS, numbers=(theirs.number,)), RABAT)
    assert card_ids(session, batch) == [theirs.id]


def test_an_admin_batches_any_region_or_the_whole_country(session, make_card, make_artisan):
    """An administrator chooses a region, or none: a national batch."""
    fes, rabat = make_card(make_artisan(region_code="03")), make_card(make_artisan(region_code="04"))
    batch, _plan = prepared(session, BatchRequest(SelectionKind.NEW, region_code="04"), NATIONAL)
    assert (batch.region_code, card_ids(session, batch)) == ("04", [rabat.id])
    batch, _plan = prepared(session, BatchRequest(SelectionKind.NEW), NATIONAL)
    assert (batch.region_code, card_ids(session, batch)) == (None, [fes.id])


def test_batches_are_found_only_within_the_scope(session, make_card):
    """An officer of another region does not find the batch (404); the admin does."""
    make_card()
    batch, _plan = prepared(session, BatchRequest(SelectionKind.NEW))
    assert batches.get_batch(session, batch.id, FES) is batch
    assert batches.get_batch(session, batch.id, NATIONAL) is batch
    with pytest.raises(RecordNotFound):
        batches.get_batch(session, batch.id, RABAT)
    assert batches.list_batches(session, RABAT) == []
    assert batches.list_batches(session, FES) == [batch]


def rendered(session, batch):
    batches.record_rendered(
        session,
        batch,
        cards_file="c",
        letters_file="l",
        manifest_file="m",
        card_pages=2 * batch.card_count,
        letter_pages=batch.card_count,
        retention_days=90,
    )
    session.commit()


def test_transitions_in_order_with_who_and_when(session, make_card, make_user):
    """prepared -> sent -> printed -> delivered, each with its time and who; audited."""
    make_card()
    batch, _plan = prepared(session, BatchRequest(SelectionKind.NEW))
    with pytest.raises(batches.BatchNotRendered):
        batches.mark_batch(session, batch, PrintBatchState.SENT_TO_PRINTER, TEST_ACTOR)
    rendered(session, batch)
    officer = make_user(Role.OFFICER, region="03")
    actor = Actor(f"user:{officer.id}", officer.id)
    for state in (PrintBatchState.SENT_TO_PRINTER, PrintBatchState.PRINTED, PrintBatchState.DELIVERED):
        batches.mark_batch(session, batch, state, actor)
        session.commit()
    assert batch.state == PrintBatchState.DELIVERED
    assert batch.sent_by_id == batch.printed_by_id == batch.ended_by_id == officer.id
    assert batch.sent_at <= batch.printed_at <= batch.ended_at
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("print_batch.%"))).all()
    assert actions == [
        "print_batch.prepare",
        "print_batch.sent_to_printer",
        "print_batch.printed",
        "print_batch.delivered",
    ]


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ((), PrintBatchState.PRINTED),
        ((), PrintBatchState.DELIVERED),
        ((PrintBatchState.SENT_TO_PRINTER,), PrintBatchState.SENT_TO_PRINTER),
        ((PrintBatchState.SENT_TO_PRINTER,), PrintBatchState.RETURNED),
        (
            (PrintBatchState.SENT_TO_PRINTER, PrintBatchState.PRINTED, PrintBatchState.RETURNED),
            PrintBatchState.DELIVERED,
        ),
        ((PrintBatchState.SENT_TO_PRINTER, PrintBatchState.PRINTED), PrintBatchState.PREPARED),
    ],
)
def test_a_wrong_transition_is_refused(session, make_card, path, wanted):
    """A state out of order is refused (409), the batch unchanged."""
    make_card()
    batch, _plan = prepared(session, BatchRequest(SelectionKind.NEW))
    rendered(session, batch)
    for state in path:
        batches.mark_batch(session, batch, state, TEST_ACTOR)
    with pytest.raises(batches.WrongBatchTransition) as refused:
        batches.mark_batch(session, batch, wanted, TEST_ACTOR)
    assert refused.value.http_status == 409
    assert batch.state == (path[-1] if path else PrintBatchState.PREPARED)


def test_a_reprint_is_recorded_and_revokes_nothing(session, make_card):
    """Once printed, a card may go in another batch: marked a reprint, audited, still in force."""
    card = make_card()
    first, _plan = prepared(session, BatchRequest(SelectionKind.NEW))
    rendered(session, first)
    with pytest.raises(batches.EmptyBatch):  # still at the printer
        batches.prepare_batch(session, BatchRequest(SelectionKind.NUMBERS, numbers=(card.number,)), FES, TEST_ACTOR)
    batches.mark_batch(session, first, PrintBatchState.SENT_TO_PRINTER, TEST_ACTOR)
    batches.mark_batch(session, first, PrintBatchState.PRINTED, TEST_ACTOR)
    session.commit()
    second, plan = prepared(session, BatchRequest(SelectionKind.NUMBERS, numbers=(card.number,)))
    assert (second.reprint_count, plan.reprint_ids) == (1, {card.id})
    assert session.scalar(select(PrintBatchCard.reprint).where(PrintBatchCard.batch_id == second.id)) is True
    session.refresh(card)
    assert card.status == CardStatus.ACTIVE and card.replaced_by is None
    assert session.scalar(select(AuditEvent.after).where(AuditEvent.action == "card.reprint")) == {"batch": second.id}
    assert [row.batch_id for row in batches.print_history(session, card.artisan_id)] == [second.id, first.id]
    with pytest.raises(batches.EmptyBatch):  # `new` means never printed
        batches.prepare_batch(session, BatchRequest(SelectionKind.NEW), FES, TEST_ACTOR)


def test_the_database_refuses_a_card_in_two_batches_at_the_printer(session, make_card):
    """The partial unique index stops a second in-flight row for a card (two officers at once)."""
    card = make_card()
    prepared(session, BatchRequest(SelectionKind.NEW))
    second = PrintBatch(region_code="03", state=PrintBatchState.PREPARED, selection="numbers", card_count=1)
    session.add(second)
    session.flush()
    session.add(PrintBatchCard(batch_id=second.id, card_id=card.id, artisan_id=card.artisan_id, position=0))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_retention_deletes_the_files_and_keeps_the_batch(session, make_card, tmp_path):
    """Past PRINT_BATCH_RETENTION_DAYS the batch's files are deleted; the batch says when."""
    make_card()
    batch, _plan = prepared(session, BatchRequest(SelectionKind.NEW))
    storage = folder_storage(str(tmp_path / "files"))
    prefix = batches.batch_prefix(batch.id) + "/"
    for name in ("cards.pdf", "letters.pdf", "manifest.csv"):
        with storage.writer(prefix + name) as target:
            target.write(b"x")
    batches.record_rendered(
        session,
        batch,
        cards_file=prefix + "cards.pdf",
        letters_file=prefix + "letters.pdf",
        manifest_file=prefix + "manifest.csv",
        card_pages=2,
        letter_pages=1,
        retention_days=90,
    )
    session.commit()
    assert batches.purge_batch_files(session, storage, utcnow() + timedelta(days=89)) == 0
    assert batches.purge_batch_files(session, storage, utcnow() + timedelta(days=91)) == 1
    session.commit()
    assert not storage.exists(prefix + "cards.pdf") and not storage.exists(prefix + "manifest.csv")
    assert batch.files_deleted_at is not None and batch.card_count == 1
    with pytest.raises(batches.BatchFilesDeleted) as gone:
        batches.batch_file(batch, "cards", 90)
    assert gone.value.http_status == 410
    assert batches.purge_batch_files(session, storage, utcnow() + timedelta(days=200)) == 0


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("A1\nB2\n\n A1 ", ("A1", "B2")),
        ("A1, B2; C3", ("A1", "B2", "C3")),
        ("", ()),
    ],
)
def test_typed_numbers_are_read_one_a_line(text, numbers):
    """Numbers typed one a line, or separated by commas or semicolons, each once in order."""
    assert batches.parse_numbers(text) == numbers


def test_too_many_numbers_are_refused():
    """More numbers than a batch takes at once are refused."""
    with pytest.raises(batches.TooManyNumbers):
        batches.parse_numbers("\n".join(f"N{i}" for i in range(batches.MAX_NUMBERS + 1)))

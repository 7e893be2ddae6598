"""Print batches for the postal printer (issue 16, part 3): which cards go to the printer together,
and the batch's life: prepared -> sent to printer -> printed -> delivered / returned.

- An officer batches their own region's cards (another region's typed numbers are refused with a
  reason); an administrator any region's, or the whole country's.
- Cards are chosen as: issued and never printed (`new`), replacements of a lost or damaged card
  never printed (`replacements`), every card in force of a region (`region`: a reprint of those
  already printed), or a list of typed numbers (`numbers`: each refused one says why). A card is in
  at most one batch on its way to the printer (a partial unique index, print_batch_card.in_flight).
- A card printed before is put in again as a reprint: recorded as such, nothing is revoked (the
  card keeps its number, token and status-list slot).
- The batch's files are rendered by its job (webapp/services/jobs/print_batches.py) and kept
  PRINT_BATCH_RETENTION_DAYS, then deleted by `purge_batch_files`; the rows stay, saying when.
Every transition is audited with who made it.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from webapp.models import Artisan, Card, CardStatus, Job, JobState, PrintBatch, PrintBatchCard, PrintBatchState, utcnow
from webapp.services.audit import Actor, record_event
from webapp.services.cards.numbers import normalize_card_number
from webapp.services.errors import N_, DomainError
from webapp.services.scope import RecordNotFound, Scope

JOB_KIND = "print_batch"
# Numbers typed at once (a form's text area, a command's file).
MAX_NUMBERS = 10_000
# The largest batch: a day of the printer's work, and the joined PDF stays a file people can move.
MAX_BATCH_CARDS = 50_000


class SelectionKind(enum.StrEnum):
    NEW = "new"  # issued and never printed
    REPLACEMENTS = "replacements"  # replacements of a lost or damaged card, never printed
    REGION = "region"  # every card in force of the region (those printed before: reprints)
    NUMBERS = "numbers"  # typed card numbers


# Why a typed number is left out.
NOT_FOUND = "not_found"
OTHER_REGION = "other_region"
NOT_PRINTABLE = "not_printable"  # revoked, suspended or expired
IN_BATCH = "in_batch"  # already in a batch on its way to the printer
REFUSAL_REASONS = (NOT_FOUND, OTHER_REGION, NOT_PRINTABLE, IN_BATCH)

# The next states each state may go to.
TRANSITIONS: dict[PrintBatchState, tuple[PrintBatchState, ...]] = {
    PrintBatchState.PREPARED: (PrintBatchState.SENT_TO_PRINTER,),
    PrintBatchState.SENT_TO_PRINTER: (PrintBatchState.PRINTED,),
    PrintBatchState.PRINTED: (PrintBatchState.DELIVERED, PrintBatchState.RETURNED),
    PrintBatchState.DELIVERED: (),
    PrintBatchState.RETURNED: (),
}


# A state as a sentence says it (a refusal's message translates it).
STATE_NAMES = {
    PrintBatchState.PREPARED: N_("prepared"),
    PrintBatchState.SENT_TO_PRINTER: N_("at the printer"),
    PrintBatchState.PRINTED: N_("printed"),
    PrintBatchState.DELIVERED: N_("delivered"),
    PrintBatchState.RETURNED: N_("returned undelivered"),
}


class EmptyBatch(DomainError):
    code = "print_batch_empty"
    http_status = 422
    message = N_("No card to print for this selection.")


class BatchTooLarge(DomainError):
    code = "print_batch_too_large"
    http_status = 422
    message = N_("A batch holds at most %(count)s cards: set a limit.")

    def __init__(self, count: int = MAX_BATCH_CARDS) -> None:
        super().__init__(count=count)


class TooManyNumbers(DomainError):
    code = "print_batch_too_many_numbers"
    http_status = 422
    message = N_("At most %(count)s card numbers at once.")

    def __init__(self, count: int = MAX_NUMBERS) -> None:
        super().__init__(count=count)


class NumbersRequired(DomainError):
    code = "print_batch_numbers_required"
    http_status = 422
    message = N_("Type the card numbers to print, one a line.")


class CardsAlreadyBatched(DomainError):
    """Another batch took some of these cards meanwhile (the database refused the second)."""

    code = "print_batch_cards_taken"
    message = N_("Some of these cards were just put in another batch: prepare the batch again.")


class WrongBatchTransition(DomainError):
    code = "print_batch_wrong_transition"
    translated_params = ("state", "wanted")
    message = N_("Batch %(batch)s is %(state)s: it cannot become %(wanted)s.")

    def __init__(self, batch: PrintBatch, wanted: PrintBatchState) -> None:
        super().__init__(batch=batch.id, state=STATE_NAMES[batch.state], wanted=STATE_NAMES[wanted])


class BatchNotRendered(DomainError):
    code = "print_batch_not_rendered"
    message = N_("Batch %(batch)s has no files yet: wait until they are rendered.")

    def __init__(self, batch: PrintBatch) -> None:
        super().__init__(batch=batch.id)


class BatchFilesDeleted(DomainError):
    code = "print_batch_files_deleted"
    http_status = 410
    message = N_("The files of batch %(batch)s were deleted on %(date)s (kept %(days)s days).")

    def __init__(self, batch: PrintBatch, days: int) -> None:
        moment = batch.files_deleted_at or utcnow()
        super().__init__(batch=batch.id, date=moment.date().isoformat(), days=days)


@dataclass(frozen=True)
class BatchRequest:
    """What to put in a batch. `region_code` is the officer's own (forced) or an admin's choice."""

    kind: SelectionKind
    region_code: str | None = None
    numbers: tuple[str, ...] = ()
    limit: int | None = None


@dataclass(frozen=True)
class RefusedNumber:
    number: str  # as typed (trimmed)
    reason: str  # one of REFUSAL_REASONS


@dataclass
class BatchPlan:
    """The cards a request selects (in print order), those among them printed before, the refusals."""

    card_ids: list[int] = field(default_factory=list)
    reprint_ids: set[int] = field(default_factory=set)
    refused: list[RefusedNumber] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.card_ids)


def batch_region(request: BatchRequest, scope: Scope) -> str | None:
    """The batch's region: an officer's own, whatever they asked; an admin's choice (None: national)."""
    return scope.region_code if scope.region_code is not None else request.region_code


def parse_numbers(text: str) -> tuple[str, ...]:
    """Card numbers typed one a line (or separated by commas, semicolons or spaces), each once, in order."""
    words = [word.strip() for word in text.replace(",", "\n").replace(";", "\n").split()]
    numbers = tuple(dict.fromkeys(word for word in words if word))
    if len(numbers) > MAX_NUMBERS:
        raise TooManyNumbers()
    return numbers


def _in_force(now: datetime) -> Any:
    return (Card.status == CardStatus.ACTIVE) & (Card.expires_at > now)


def _ever_printed() -> Any:
    return exists().where(PrintBatchCard.card_id == Card.id)


def _in_flight() -> Any:
    return exists().where(PrintBatchCard.card_id == Card.id, PrintBatchCard.in_flight.is_(True))


def plan_batch(session: Session, request: BatchRequest, scope: Scope, now: datetime | None = None) -> BatchPlan:
    """The cards `request` would put in a batch, within the reader's scope; nothing is written."""
    now = now or utcnow()
    region = batch_region(request, scope)
    if request.kind == SelectionKind.NUMBERS:
        plan = _plan_numbers(session, request.numbers, region, now)
        if request.limit is not None:
            plan.card_ids = plan.card_ids[: request.limit]
            plan.reprint_ids &= set(plan.card_ids)
        return plan
    statement = select(Card.id).join(Artisan, Card.artisan_id == Artisan.id).where(_in_force(now))
    if region is not None:
        statement = statement.where(Artisan.region_code == region)
    if request.kind == SelectionKind.REGION:
        statement = statement.where(~_in_flight())
    else:
        statement = statement.where(~_ever_printed())
    if request.kind == SelectionKind.REPLACEMENTS:
        statement = statement.where(Card.replaces_id.is_not(None))
    statement = statement.order_by(Card.id).limit(request.limit or MAX_BATCH_CARDS + 1)
    card_ids = list(session.scalars(statement))
    reprints: set[int] = set()
    if request.kind == SelectionKind.REGION and card_ids:
        reprints = _printed_among(session, card_ids)
    return BatchPlan(card_ids, reprints)


def _printed_among(session: Session, card_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(card_ids), 5_000):  # bound the IN list (PostgreSQL and SQLite limits)
        chunk = card_ids[start : start + 5_000]
        found.update(session.scalars(select(PrintBatchCard.card_id).where(PrintBatchCard.card_id.in_(chunk))))
    return found


def _plan_numbers(session: Session, typed: Sequence[str], region: str | None, now: datetime) -> BatchPlan:
    if not typed:
        raise NumbersRequired()
    plan = BatchPlan()
    normalized = {number: normalize_card_number(number) for number in typed}
    wanted = [number for number in normalized.values() if number]
    cards: dict[str, tuple[Card, str]] = {}
    for start in range(0, len(wanted), 5_000):
        chunk = wanted[start : start + 5_000]
        rows = session.execute(
            select(Card, Artisan.region_code).join(Artisan, Card.artisan_id == Artisan.id).where(Card.number.in_(chunk))
        )
        cards.update({card.number: (card, region_code) for card, region_code in rows})
    ids = [card.id for card, _region in cards.values()]
    in_flight = set()
    for start in range(0, len(ids), 5_000):
        chunk = ids[start : start + 5_000]
        in_flight.update(
            session.scalars(
                select(PrintBatchCard.card_id).where(PrintBatchCard.card_id.in_(chunk), PrintBatchCard.in_flight)
            )
        )
    printed = _printed_among(session, ids)
    chosen: set[int] = set()
    for number, clean in normalized.items():
        found = cards.get(clean) if clean else None
        if found is None:
            plan.refused.append(RefusedNumber(number, NOT_FOUND))
            continue
        card, card_region = found
        if region is not None and card_region != region:
            reason = OTHER_REGION
        elif card.status != CardStatus.ACTIVE or card.expires_at <= now:
            reason = NOT_PRINTABLE
        elif card.id in in_flight:
            reason = IN_BATCH
        else:
            if card.id not in chosen:
                chosen.add(card.id)
                plan.card_ids.append(card.id)
                if card.id in printed:
                    plan.reprint_ids.add(card.id)
            continue
        plan.refused.append(RefusedNumber(number, reason))
    return plan


def prepare_batch(
    session: Session, request: BatchRequest, scope: Scope, actor: Actor, now: datetime | None = None
) -> tuple[PrintBatch, BatchPlan]:
    """A new batch of the cards `request` selects (state prepared), audited; EmptyBatch if none.

    The caller then starts its rendering (`start_rendering`), in the same transaction."""
    now = now or utcnow()
    plan = plan_batch(session, request, scope, now)
    if not plan.card_ids:
        raise EmptyBatch()
    if len(plan.card_ids) > MAX_BATCH_CARDS:
        raise BatchTooLarge()
    batch = PrintBatch(
        region_code=batch_region(request, scope),
        state=PrintBatchState.PREPARED,
        selection=request.kind.value,
        prepared_at=now,
        prepared_by_id=actor.user_id,
        card_count=len(plan.card_ids),
        reprint_count=len(plan.reprint_ids),
    )
    session.add(batch)
    session.flush()
    artisans = _artisans_of(session, plan.card_ids)
    rows = [
        {
            "batch_id": batch.id,
            "card_id": card_id,
            "artisan_id": artisans[card_id],
            "position": position,
            "reprint": card_id in plan.reprint_ids,
            "in_flight": True,
        }
        for position, card_id in enumerate(plan.card_ids)
    ]
    try:
        with session.begin_nested():
            for start in range(0, len(rows), 2_000):
                session.execute(insert(PrintBatchCard), rows[start : start + 2_000])
    except IntegrityError as error:
        raise CardsAlreadyBatched() from error
    record_event(
        session,
        actor,
        "print_batch.prepare",
        after={
            "batch": batch.id,
            "region": batch.region_code,
            "selection": request.kind.value,
            "cards": batch.card_count,
            "reprints": batch.reprint_count,
            "refused": len(plan.refused),
        },
    )
    if plan.reprint_ids:
        # A reprint is noted on the card's own trail: printed again, nothing revoked.
        for card in session.scalars(select(Card).where(Card.id.in_(sorted(plan.reprint_ids)[:MAX_NUMBERS]))):
            record_event(session, actor, "card.reprint", card=card, after={"batch": batch.id})
    return batch, plan


def _artisans_of(session: Session, card_ids: Sequence[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for start in range(0, len(card_ids), 5_000):
        chunk = card_ids[start : start + 5_000]
        found.update(session.execute(select(Card.id, Card.artisan_id).where(Card.id.in_(chunk))).all())
    return found


def start_rendering(session: Session, batch: PrintBatch, actor: Actor) -> Any:
    """Submit the job that renders the batch's files (again, after a failed run: safe to rerun)."""
    from webapp.services.jobs.jobs import submit_job  # the job system imports this module's callers

    if batch.state != PrintBatchState.PREPARED:
        raise WrongBatchTransition(batch, PrintBatchState.PREPARED)
    job = submit_job(
        session,
        JOB_KIND,
        actor=actor,
        region_code=batch.region_code,
        params={"batch_id": batch.id},
        total=batch.card_count,
        dedupe_key=f"print_batch:{batch.id}",
    )
    batch.job_id = job.id
    return job


class NothingToRenderAgain(DomainError):
    """Only a prepared batch whose rendering failed, stopped or was interrupted is rendered again."""

    code = "batch_not_renderable_again"
    http_status = 409
    message = N_("This batch's files are being rendered or are ready: there is nothing to render again.")


def render_again(session: Session, batch: PrintBatch, actor: Actor) -> Any:
    """Render a batch's files again after its job failed, was cancelled or was interrupted (a worker
    killed): safe, every part is rendered again and each letter gets a fresh code."""
    job = session.get(Job, batch.job_id) if batch.job_id is not None else None
    if batch.rendered_at is not None or (job is not None and (not job.is_finished or job.state == JobState.DONE)):
        raise NothingToRenderAgain()
    return start_rendering(session, batch, actor)


def get_batch(session: Session, batch_id: int, scope: Scope) -> PrintBatch:
    """A batch the reader may see (an officer: their region's); RecordNotFound otherwise."""
    batch = session.get(PrintBatch, batch_id)
    if batch is None or (scope.region_code is not None and batch.region_code != scope.region_code):
        raise RecordNotFound()
    return batch


def list_batches(session: Session, scope: Scope, *, limit: int = 50, offset: int = 0) -> list[PrintBatch]:
    """The reader's batches, newest first."""
    statement = select(PrintBatch).order_by(PrintBatch.id.desc()).limit(limit).offset(offset)
    if scope.region_code is not None:
        statement = statement.where(PrintBatch.region_code == scope.region_code)
    return list(session.scalars(statement))


def count_batches(session: Session, scope: Scope) -> int:
    statement = select(func.count()).select_from(PrintBatch)
    if scope.region_code is not None:
        statement = statement.where(PrintBatch.region_code == scope.region_code)
    return session.scalar(statement) or 0


def batch_cards(session: Session, batch: PrintBatch, *, limit: int | None = None) -> list[PrintBatchCard]:
    """The batch's cards in print order, with their card and artisan."""
    statement = (
        select(PrintBatchCard)
        .where(PrintBatchCard.batch_id == batch.id)
        .options(joinedload(PrintBatchCard.card), joinedload(PrintBatchCard.artisan))
        .order_by(PrintBatchCard.position)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def print_history(session: Session, artisan_id: int) -> list[PrintBatchCard]:
    """Every batch an artisan's cards were put in, newest first: a card's print history."""
    statement = (
        select(PrintBatchCard)
        .where(PrintBatchCard.artisan_id == artisan_id)
        .options(joinedload(PrintBatchCard.batch), joinedload(PrintBatchCard.card))
        .order_by(PrintBatchCard.batch_id.desc())
    )
    return list(session.scalars(statement))


def mark_batch(
    session: Session, batch: PrintBatch, wanted: PrintBatchState, actor: Actor, now: datetime | None = None
) -> PrintBatch:
    """Move a batch to its next state (WrongBatchTransition otherwise), audited with who and when."""
    now = now or utcnow()
    session.refresh(batch, with_for_update=True)  # two officers pressing at once: one wins
    if wanted not in TRANSITIONS[batch.state]:
        raise WrongBatchTransition(batch, wanted)
    if wanted == PrintBatchState.SENT_TO_PRINTER and batch.rendered_at is None:
        raise BatchNotRendered(batch)
    before = batch.state
    batch.state = wanted
    if wanted == PrintBatchState.SENT_TO_PRINTER:
        batch.sent_at, batch.sent_by_id = now, actor.user_id
    elif wanted == PrintBatchState.PRINTED:
        batch.printed_at, batch.printed_by_id = now, actor.user_id
        # Back from the printer: its cards may go in another batch (a reprint) from now on.
        session.execute(
            update(PrintBatchCard)
            .where(PrintBatchCard.batch_id == batch.id, PrintBatchCard.in_flight.is_(True))
            .values(in_flight=False)
            .execution_options(synchronize_session=False)
        )
    else:
        batch.ended_at, batch.ended_by_id = now, actor.user_id
    session.flush()
    record_event(
        session,
        actor,
        f"print_batch.{wanted.value}",
        before={"batch": batch.id, "state": before.value},
        after={"batch": batch.id, "state": wanted.value, "region": batch.region_code, "cards": batch.card_count},
    )
    return batch


def record_rendered(
    session: Session,
    batch: PrintBatch,
    *,
    cards_file: str,
    letters_file: str,
    manifest_file: str,
    card_pages: int,
    letter_pages: int,
    retention_days: int,
    now: datetime | None = None,
) -> None:
    """The batch's files are ready (the job's last step): where, how many pages, until when kept."""
    now = now or utcnow()
    batch.cards_file, batch.letters_file, batch.manifest_file = cards_file, letters_file, manifest_file
    batch.card_pages, batch.letter_pages = card_pages, letter_pages
    batch.rendered_at = now
    batch.files_expire_at = now + timedelta(days=retention_days)
    batch.files_deleted_at = None


def batch_prefix(batch_id: int) -> str:
    """The storage folder of a batch's files."""
    return f"print/batch-{batch_id}"


def purge_batch_files(session: Session, storage: Any, now: datetime | None = None) -> int:
    """Delete the files of batches kept past their time (the rows stay, saying when); how many batches."""
    now = now or utcnow()
    expired = session.scalars(
        select(PrintBatch).where(PrintBatch.files_expire_at <= now, PrintBatch.files_deleted_at.is_(None))
    ).all()
    for batch in expired:
        storage.delete_prefix(batch_prefix(batch.id))
        batch.files_deleted_at = now
        batch.cards_file = batch.letters_file = batch.manifest_file = None
        record_event(
            session,
            Actor("system"),
            "print_batch.files_deleted",
            after={"batch": batch.id, "region": batch.region_code, "expired_at": batch.files_expire_at.isoformat()},
        )
    session.flush()
    return len(expired)


def batch_file(batch: PrintBatch, which: str, retention_days: int) -> str:
    """The storage key of one of a batch's files ("cards", "letters", "manifest"); named errors when
    not rendered yet or deleted."""
    if batch.files_deleted_at is not None:
        raise BatchFilesDeleted(batch, retention_days)
    key = {"cards": batch.cards_file, "letters": batch.letters_file, "manifest": batch.manifest_file}[which]
    if key is None:
        raise BatchNotRendered(batch)
    return key

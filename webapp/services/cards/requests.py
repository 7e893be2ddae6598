"""What an artisan asks the chamber about their card (issue 15, part 6), and the officers' tasks.

- "I lost my card" suspends the card at once (reason `lost_reported`, audited by the lifecycle) and
  makes a task; "renew my card" and "my details are wrong" (in the artisan's words) make tasks too.
- At most one pending request of each kind per card, enforced by a partial unique index: a second
  one is answered with the first (DuplicateRequest), never made twice. A second "lost" still
  suspends a card that an officer had made valid again meanwhile: that is what the holder asks for.
- Officers see the tasks of their region (the artisan's region now, so a task follows a move),
  administrators every region's. Taking a task and closing it (done, or declined with a note) are
  compare-and-set updates on a version number: an officer acting on what another has changed since
  gets StaleRequest, never a silent overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from webapp.models import Artisan, Card, CardRequest, CardStatus, RequestKind, RequestState, utcnow
from webapp.models.card_request import MAX_DETAIL_LENGTH, MAX_NOTE_LENGTH
from webapp.services.audit import Actor, record_event
from webapp.services.cards import lifecycle
from webapp.services.errors import N_, DomainError, optional_reason, required_reason
from webapp.services.scope import RecordNotFound, Scope

PENDING_STATES = (RequestState.OPEN, RequestState.IN_PROGRESS)
CLOSED_STATES = (RequestState.DONE, RequestState.DECLINED)
PAGE_SIZE = 50
# Enough for a person's own list: a request is a rare thing.
OWN_REQUESTS_SHOWN = 50

# The kinds as words, marked for translation (the web layer shows them in the reader's language).
KIND_WORDS = {
    RequestKind.LOST: N_("lost card"),
    RequestKind.RENEWAL: N_("renewal"),
    RequestKind.CORRECTION: N_("correction of details"),
}


class RequestError(DomainError):
    """Base of the card requests' refusals."""

    code = "card_request_error"


class NoCardInForce(RequestError):
    code = "no_card_in_force"
    http_status = 409
    message = N_("You have no card in force: ask your chamber of crafts.")


class DuplicateRequest(RequestError):
    """A request of this kind is pending for the card already."""

    code = "duplicate_request"
    http_status = 409
    translated_params = ("kind",)
    message = N_(
        "You already asked for this (%(kind)s) on %(date)s: the chamber has your request, no need to ask again."
    )

    def __init__(self, existing: CardRequest) -> None:
        self.existing = existing
        super().__init__(kind=KIND_WORDS[existing.kind], date=existing.created_at.date().isoformat())


class RequestAlreadyClosed(RequestError):
    code = "request_closed"
    http_status = 409
    message = N_("This task is closed already: nothing more can be done on it.")


class StaleRequest(RequestError):
    """The task changed since the officer read it (another officer took or closed it)."""

    code = "stale_request"
    http_status = 409
    message = N_("Someone else changed this task since you opened it: look at it again before acting.")


class NotAClosingState(RequestError):
    code = "not_a_closing_state"
    http_status = 422
    message = N_("Choose done or declined.")


@dataclass(frozen=True)
class Submitted:
    """What came of an artisan's request: the request (new, or the pending one of that kind), and
    whether this call suspended the card."""

    request: CardRequest
    created: bool
    suspended: bool


def card_in_force(session: Session, artisan_id: int) -> Card | None:
    """The artisan's card in force (active or suspended, expired or not), if any."""
    return session.scalar(select(Card).where(Card.artisan_id == artisan_id, Card.status != CardStatus.REVOKED))


def _pending(session: Session, card: Card, kind: RequestKind) -> CardRequest | None:
    return session.scalar(
        select(CardRequest).where(
            CardRequest.card_id == card.id, CardRequest.kind == kind, CardRequest.state.in_(PENDING_STATES)
        )
    )


def submit_request(
    session: Session,
    artisan: Artisan,
    kind: RequestKind,
    actor: Actor,
    *,
    detail: str | None = None,
    requested_by_id: int | None = None,
    now: datetime | None = None,
) -> Submitted:
    """An artisan's request about their card in force: a task for their region's officers.

    A lost card is suspended at once (when active). A pending request of the same kind is answered
    with DuplicateRequest, except that a lost report still suspends an active card (and then
    returns the pending request, `created` False).
    """
    detail = required_reason(detail, MAX_DETAIL_LENGTH) if kind == RequestKind.CORRECTION else None
    card = card_in_force(session, artisan.id)
    if card is None:
        raise NoCardInForce()
    # The card's row lock serialises two presses at once (and an officer's change of the card).
    session.refresh(card, with_for_update=True)
    if card.status == CardStatus.REVOKED:
        raise NoCardInForce()
    suspended = False
    if kind == RequestKind.LOST and card.status == CardStatus.ACTIVE:
        lifecycle.suspend_card(session, card, lifecycle.LOST_REPORTED, actor)
        suspended = True
    existing = _pending(session, card, kind)
    if existing is None:
        request = CardRequest(
            card_id=card.id,
            artisan_id=artisan.id,
            kind=kind,
            detail=detail,
            state=RequestState.OPEN,
            created_at=now or utcnow(),
            requested_by_id=requested_by_id,
            version=1,
        )
        try:
            with session.begin_nested():
                session.add(request)
        except IntegrityError:
            existing = _pending(session, card, kind)  # made in between (without the card lock: a bug)
            if existing is None:
                raise
        else:
            record_event(
                session,
                actor,
                "card.request",
                card=card,
                after={"request_id": request.id, "kind": kind.value, "detail": detail, "state": request.state.value},
            )
            return Submitted(request, created=True, suspended=suspended)
    if suspended:
        return Submitted(existing, created=False, suspended=True)
    raise DuplicateRequest(existing)


def artisan_requests(session: Session, artisan_id: int) -> list[CardRequest]:
    """The artisan's requests, newest first."""
    return list(
        session.scalars(
            select(CardRequest)
            .where(CardRequest.artisan_id == artisan_id)
            .options(joinedload(CardRequest.card))
            .order_by(CardRequest.id.desc())
            .limit(OWN_REQUESTS_SHOWN)
        )
    )


def _in_scope(statement: Select[tuple[CardRequest]], scope: Scope) -> Select[tuple[CardRequest]]:
    if scope.region_code is None:
        return statement
    return statement.join(Artisan, Artisan.id == CardRequest.artisan_id).where(Artisan.region_code == scope.region_code)


def pending_requests(
    session: Session, scope: Scope, *, after: int | None = None, limit: int = PAGE_SIZE
) -> list[CardRequest]:
    """Pending tasks within the scope, oldest first (the longest waiting at the top), one keyset
    page after the task `after`."""
    statement = select(CardRequest).where(CardRequest.state.in_(PENDING_STATES))
    if after is not None:
        statement = statement.where(CardRequest.id > after)
    statement = _in_scope(statement, scope).options(joinedload(CardRequest.artisan), joinedload(CardRequest.card))
    return list(session.scalars(statement.order_by(CardRequest.id).limit(limit)))


def count_pending_requests(session: Session, scope: Scope) -> int:
    """How many tasks wait within the scope (the dashboard's count)."""
    statement = _in_scope(select(CardRequest).where(CardRequest.state.in_(PENDING_STATES)), scope)
    return session.scalar(select(func.count()).select_from(statement.subquery())) or 0


def pending_requests_of(session: Session, artisan_id: int) -> list[CardRequest]:
    """An artisan's pending requests (shown on their record in the back office)."""
    return list(
        session.scalars(
            select(CardRequest)
            .where(CardRequest.artisan_id == artisan_id, CardRequest.state.in_(PENDING_STATES))
            .order_by(CardRequest.id)
        )
    )


def get_request(session: Session, request_id: int, scope: Scope) -> CardRequest:
    """A task within the scope; another region's, or none, is RecordNotFound (404)."""
    statement = _in_scope(select(CardRequest).where(CardRequest.id == request_id), scope)
    request = session.scalar(statement)
    if request is None:
        raise RecordNotFound()
    return request


def _snapshot(request: CardRequest) -> dict[str, object]:
    return {
        "request_id": request.id,
        "kind": request.kind.value,
        "state": request.state.value,
        "handled_by": request.handled_by_id,
        "note": request.officer_note,
        "version": request.version,
    }


def _compare_and_set(session: Session, request: CardRequest, version: int, **values: object) -> None:
    """Write the change only if the task is still at the version the officer saw."""
    if request.state in CLOSED_STATES:
        raise RequestAlreadyClosed()
    changed = session.execute(
        update(CardRequest)
        .where(CardRequest.id == request.id, CardRequest.version == version)
        .where(CardRequest.state.in_(PENDING_STATES))
        .values(version=CardRequest.version + 1, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(request)
    if changed != 1:
        if request.state in CLOSED_STATES:
            raise RequestAlreadyClosed()
        raise StaleRequest()


def take_request(session: Session, request_id: int, version: int, scope: Scope, actor: Actor) -> CardRequest:
    """An officer takes a pending task ("in progress", under their name)."""
    if actor.user_id is None:
        raise ValueError("a task is taken by a signed-in person")
    request = get_request(session, request_id, scope)
    before = _snapshot(request)
    _compare_and_set(session, request, version, state=RequestState.IN_PROGRESS, handled_by_id=actor.user_id)
    record_event(session, actor, "card.request_take", card=request.card, before=before, after=_snapshot(request))
    return request


def close_request(
    session: Session,
    request_id: int,
    version: int,
    outcome: RequestState,
    note: str | None,
    scope: Scope,
    actor: Actor,
    now: datetime | None = None,
) -> CardRequest:
    """An officer closes a task: done (a note optional), or declined (a note required: the artisan
    reads it)."""
    if actor.user_id is None:
        raise ValueError("a task is closed by a signed-in person")
    if outcome not in CLOSED_STATES:
        raise NotAClosingState()
    cleaned = (
        required_reason(note, MAX_NOTE_LENGTH)
        if outcome == RequestState.DECLINED
        else optional_reason(note, MAX_NOTE_LENGTH)
    )
    request = get_request(session, request_id, scope)
    before = _snapshot(request)
    _compare_and_set(
        session,
        request,
        version,
        state=outcome,
        handled_by_id=actor.user_id,
        handled_at=now or utcnow(),
        officer_note=cleaned,
    )
    record_event(
        session,
        actor,
        "card.request_close",
        card=request.card,
        reason=cleaned[:200] if cleaned else None,
        before=before,
        after=_snapshot(request),
    )
    return request

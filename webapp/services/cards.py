"""The card lifecycle: issue, suspend, reinstate, revoke, renew, replace.

Each function takes a session, flushes (never commits), writes one audit event per change and
raises a named error for an illegal transition. Uniqueness (one card in force per artisan, card
numbers, status indices) is enforced by the database; these functions only explain its refusals.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Protocol

from cryptography.hazmat.primitives import serialization
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.db import bulk_insert
from webapp.models import Artisan, AuditEvent, Card, CardStatus, RevocationReason, utcnow
from webapp.services import status_list
from webapp.services.audit import Actor, card_snapshot, record_event
from webapp.services.card_numbers import new_card_number, normalize_card_number
from webapp.services.card_tokens import (
    MAX_NAME_LENGTH,
    CardClaims,
    CardTokenSigner,
    sign_card_token,
    sign_card_tokens,
)
from webapp.services.signing_keys import Signer

NUMBER_ATTEMPTS = 5


class CardError(Exception):
    """Base of the lifecycle errors; `code` is a stable reason code for APIs and forms."""

    code = "card_error"


class CardNotFound(CardError):
    code = "card_not_found"

    def __init__(self, number: str) -> None:
        super().__init__(f"no card with number {number!r}")


class ArtisanAlreadyHasCard(CardError):
    code = "artisan_has_card"

    def __init__(self, artisan_id: int) -> None:
        super().__init__(f"artisan {artisan_id} already has a card in force: replace or revoke it first")


class IllegalTransition(CardError):
    code = "illegal_transition"

    def __init__(self, card: Card, action: str) -> None:
        super().__init__(f"card {card.number} is {card.status.value}: it cannot be {action}")
        self.card_status = card.status


class CardAlreadyRevoked(IllegalTransition):
    code = "card_already_revoked"


class NameTooLong(CardError):
    code = "name_too_long"

    def __init__(self, name: str) -> None:
        super().__init__(f"the Latin name {name!r} is longer than {MAX_NAME_LENGTH} characters")


def default_expiry(now: datetime, validity_years: int) -> datetime:
    """End of the day (UTC) `validity_years` after now (29 February falls back to the 28th)."""
    today = now.astimezone(UTC).date()
    try:
        end_day = today.replace(year=today.year + validity_years)
    except ValueError:
        end_day = today.replace(year=today.year + validity_years, day=28)
    return datetime.combine(end_day, time(23, 59, 59), UTC)


def card_name(holder: CardHolder) -> str:
    """The Latin name the token carries; longer than 40 characters is refused, never truncated."""
    name = holder.name_latin
    if len(name) > MAX_NAME_LENGTH:
        raise NameTooLong(name)
    return name


def get_card(session: Session, number: str) -> Card:
    """The card with this number (typed forms accepted), or CardNotFound."""
    canonical = normalize_card_number(number)
    card = session.scalar(select(Card).where(Card.number == canonical)) if canonical else None
    if card is None:
        raise CardNotFound(number)
    return card


def _sign(card: Card, artisan: Artisan, signer: Signer) -> None:
    claims = CardClaims(
        number=card.number,
        name=card_name(artisan),
        trade=artisan.trade_code,
        region=artisan.region_code,
        expires_at=card.expires_at,
        status_index=card.status_index,
    )
    card.token = sign_card_token(claims, signer.kid, signer.private_key)
    card.key_id = signer.kid


def _artisan_has_card_in_force(session: Session, artisan_id: int) -> bool:
    return bool(
        session.scalar(select(exists().where(Card.artisan_id == artisan_id, Card.status != CardStatus.REVOKED)))
    )


def issue_card(
    session: Session,
    artisan: Artisan,
    signer: Signer,
    actor: Actor,
    *,
    validity_years: int,
    now: datetime | None = None,
    replaces: Card | None = None,
) -> Card:
    """Issue a signed card to an artisan who has no card in force."""
    now = now or utcnow()
    index = status_list.allocate_indices(session)[0]
    for _attempt in range(NUMBER_ATTEMPTS):
        card = Card(
            number=new_card_number(),
            artisan=artisan,
            status=CardStatus.ACTIVE,
            issued_at=now,
            expires_at=default_expiry(now, validity_years),
            status_index=index,
        )
        _sign(card, artisan, signer)
        try:
            with session.begin_nested():
                session.add(card)
                card.replaces = replaces  # after add: begin_nested flushes, the link must not go first
        except IntegrityError:
            if _artisan_has_card_in_force(session, artisan.id):
                raise ArtisanAlreadyHasCard(artisan.id) from None
            continue  # a card number collision (1 in ~10^8 at full scale): draw another
        record_event(session, actor, "card.issue", card=card, after=card_snapshot(card))
        return card
    raise RuntimeError("could not draw a free card number")  # pragma: no cover - astronomically unlikely


def _refusal(card: Card, action: str) -> IllegalTransition:
    """The named error for a change the card's status does not allow."""
    error = CardAlreadyRevoked if card.status == CardStatus.REVOKED else IllegalTransition
    return error(card, action)


def _transition(
    session: Session,
    card: Card,
    actor: Actor,
    action: str,
    allowed_from: Iterable[CardStatus],
    to: CardStatus,
    reason: str | None,
) -> Card:
    if card.status not in allowed_from:
        raise _refusal(card, action)
    before = card_snapshot(card)
    card.status = to
    card.status_reason = reason
    session.flush()
    status_list.mark_changed(session)
    record_event(session, actor, f"card.{action}", card=card, reason=reason, before=before, after=card_snapshot(card))
    return card


def suspend_card(session: Session, card: Card, reason: str, actor: Actor) -> Card:
    return _transition(session, card, actor, "suspend", [CardStatus.ACTIVE], CardStatus.SUSPENDED, reason)


def reinstate_card(session: Session, card: Card, actor: Actor, reason: str | None = None) -> Card:
    return _transition(session, card, actor, "reinstate", [CardStatus.SUSPENDED], CardStatus.ACTIVE, reason)


def revoke_card(session: Session, card: Card, reason: RevocationReason, actor: Actor, note: str | None = None) -> Card:
    detail = reason.value if not note else f"{reason.value}: {note}"
    return _transition(
        session, card, actor, "revoke", [CardStatus.ACTIVE, CardStatus.SUSPENDED], CardStatus.REVOKED, detail
    )


def renew_card(
    session: Session,
    card: Card,
    signer: Signer,
    actor: Actor,
    *,
    validity_years: int,
    now: datetime | None = None,
) -> Card:
    """Give an active card a new expiry and a freshly signed token (same number, same index)."""
    if card.status != CardStatus.ACTIVE:
        raise _refusal(card, "renew")
    before = card_snapshot(card)
    card.expires_at = default_expiry(now or utcnow(), validity_years)
    _sign(card, card.artisan, signer)
    session.flush()
    record_event(session, actor, "card.renew", card=card, before=before, after=card_snapshot(card))
    return card


def replace_card(
    session: Session,
    card: Card,
    signer: Signer,
    actor: Actor,
    *,
    validity_years: int,
    reason: RevocationReason = RevocationReason.REPLACED,
    now: datetime | None = None,
) -> Card:
    """Revoke a card in force and issue the same artisan a new one with a new number."""
    revoke_card(session, card, reason, actor, note="replaced by a new card")
    return issue_card(session, card.artisan, signer, actor, validity_years=validity_years, now=now, replaces=card)


class CardHolder(Protocol):
    """What bulk issuance reads of an artisan (an Artisan, or a lighter row with the same names)."""

    @property
    def id(self) -> int: ...
    @property
    def name_latin(self) -> str: ...
    @property
    def trade_code(self) -> str: ...
    @property
    def region_code(self) -> str: ...


@dataclass(frozen=True)
class BulkPlan:
    """Cards to issue: their holders and claims (numbers drawn, indices allocated), not yet signed."""

    holders: Sequence[CardHolder]
    claims: list[CardClaims]
    issued_at: datetime


def draw_free_numbers(session: Session, count: int) -> list[str]:
    """`count` distinct new card numbers that no card in the register has."""
    numbers: set[str] = set()
    while len(numbers) < count:
        candidates = list({new_card_number() for _ in range(count - len(numbers))} - numbers)
        taken: set[str] = set()
        for start in range(0, len(candidates), 500):  # well under every database's parameter limit
            batch = candidates[start : start + 500]
            taken.update(session.scalars(select(Card.number).where(Card.number.in_(batch))))
        numbers.update(number for number in candidates if number not in taken)
    return list(numbers)


def plan_bulk_issue(
    session: Session, holders: Sequence[CardHolder], *, validity_years: int, now: datetime | None = None
) -> BulkPlan:
    """Allocate status indices and card numbers for many holders (in the caller's transaction)."""
    now = now or utcnow()
    expires_at = default_expiry(now, validity_years)
    indices = status_list.allocate_indices(session, len(holders))
    numbers = draw_free_numbers(session, len(holders))
    claims = [
        CardClaims(number, card_name(holder), holder.trade_code, holder.region_code, expires_at, index)
        for holder, index, number in zip(holders, indices, numbers, strict=True)
    ]
    return BulkPlan(holders, claims, now)


def insert_signed_cards(session: Session, plan: BulkPlan, tokens: list[str], kid: str, actor: Actor) -> int:
    """Insert the planned cards with their tokens, and one audit event per card (Core executemany)."""
    card_table, audit_table = Card.__table__, AuditEvent.__table__
    bulk_insert(
        session,
        card_table,
        [
            {
                "number": claims.number,
                "artisan_id": holder.id,
                "status": CardStatus.ACTIVE,
                "issued_at": plan.issued_at,
                "expires_at": claims.expires_at,
                "status_index": claims.status_index,
                "key_id": kid,
                "token": token,
            }
            for holder, claims, token in zip(plan.holders, plan.claims, tokens, strict=True)
        ],
    )
    first_index = plan.claims[0].status_index
    ids = dict(
        session.execute(
            select(card_table.c.status_index, card_table.c.id).where(
                card_table.c.status_index.between(first_index, plan.claims[-1].status_index)
            )
        ).all()
    )
    expires = plan.claims[0].expires_at.isoformat()
    bulk_insert(
        session,
        audit_table,
        [
            {
                "occurred_at": plan.issued_at,
                "actor": actor.label,
                "actor_user_id": actor.user_id,
                "action": "card.issue",
                "card_id": ids[claims.status_index],
                "after": {"number": claims.number, "status": "active", "expires_at": expires, "key_id": kid},
            }
            for claims in plan.claims
        ],
    )
    return len(plan.claims)


def issue_cards_in_bulk(
    session: Session,
    holders: Sequence[CardHolder],
    signer: Signer,
    actor: Actor,
    *,
    validity_years: int,
    now: datetime | None = None,
) -> int:
    """Issue cards to many artisans at once, in this process and the caller's transaction.

    The caller passes artisans without a card in force; the database still refuses any duplicate.
    """
    if not holders:
        return 0
    plan = plan_bulk_issue(session, holders, validity_years=validity_years, now=now)
    token_signer = CardTokenSigner(signer.kid, signer.private_key)
    return insert_signed_cards(session, plan, [token_signer.sign(c) for c in plan.claims], signer.kid, actor)


@dataclass(frozen=True)
class _HolderRow:
    id: int
    name_latin: str
    trade_code: str
    region_code: str


def holders_without_card(session: Session, limit: int, after_id: int = 0) -> list[_HolderRow]:
    """Registered artisans with no card in force, by id, after `after_id` (keyset pagination:
    each page costs the same however many cards exist)."""
    card_in_force = exists().where(Card.artisan_id == Artisan.id, Card.status != CardStatus.REVOKED)
    rows = session.execute(
        select(Artisan.id, Artisan.first_name_latin, Artisan.last_name_latin, Artisan.trade_code, Artisan.region_code)
        .where(Artisan.id > after_id, ~card_in_force)
        .order_by(Artisan.id)
        .limit(limit)
    )
    return [_HolderRow(id_, f"{first} {last}", trade, region) for id_, first, last, trade, region in rows]


def issue_cards_to_all(
    session_scope: Callable[[], AbstractContextManager[Session]],
    signer: Signer,
    actor: Actor,
    *,
    validity_years: int,
    chunk_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """National roll-out: a card for every registered artisan without one, one transaction per chunk.

    Signing is pure computation on plain data: a worker process signs the next chunk while this one
    writes the current chunk. (Two signing workers were slower on the 2-core machines: the main
    process then competes with both.) A failed chunk rolls back alone (its status indices stay
    burnt, never reused); running again continues with the artisans still without a card.
    """
    private_key_pem = signer.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    issued = 0
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(sign_card_tokens, private_key_pem, signer.kid, [])  # start the worker while we plan
        pending: tuple[BulkPlan, Future[list[str]]] | None = None
        after_id = 0
        size = max(1, chunk_size // 10)  # a small first chunk fills the pipeline sooner
        while True:
            with session_scope() as session:
                holders = holders_without_card(session, size, after_id)
                size = chunk_size
                plan = plan_bulk_issue(session, holders, validity_years=validity_years) if holders else None
            if holders:
                after_id = holders[-1].id
            next_job = (plan, pool.submit(sign_card_tokens, private_key_pem, signer.kid, plan.claims)) if plan else None
            if pending is not None:
                done_plan, tokens = pending
                with session_scope() as session:
                    issued += insert_signed_cards(session, done_plan, tokens.result(), signer.kid, actor)
                if progress:
                    progress(issued)
            if next_job is None:
                return issued
            pending = next_job

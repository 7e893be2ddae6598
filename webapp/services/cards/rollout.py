"""The national roll-out: cards for many artisans at once, signed in a second process.

Planning (numbers, status indices) happens in the caller's transaction; signing is pure computation
on plain data, so a worker process signs the next chunk while this one writes the current one.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session, aliased, joinedload
from sqlalchemy.orm.util import AliasedClass

from webapp.models import Artisan, AuditEvent, Card, CardStatus, RevocationReason, utcnow
from webapp.services.audit import Actor
from webapp.services.audit.chain import chain_rows
from webapp.services.bulk import bulk_insert
from webapp.services.cards.lifecycle import (
    REVOCATIONS_FOR_CAUSE,
    CardHolder,
    card_name,
    default_expiry,
    reissue_card,
)
from webapp.services.cards.numbers import new_card_number
from webapp.services.cards.tokens import CardClaims, CardTokenSigner, sign_card_tokens
from webapp.services.trust import status_list
from webapp.services.trust.signing_keys import Signer, cards_to_reissue


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
    events = [
        {
            "occurred_at": plan.issued_at,
            "actor": actor.label,
            "actor_user_id": actor.user_id,
            "action": "card.issue",
            "card_id": ids[claims.status_index],
            "artisan_id": holder.id,
            "after": {"number": claims.number, "status": "active", "expires_at": expires, "key_id": kid},
        }
        for holder, claims in zip(plan.holders, plan.claims, strict=True)
    ]
    chain_rows(session, events)  # last: the chain head stays locked only until this chunk commits
    bulk_insert(session, audit_table, events)
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


_FOR_CAUSE = sorted(REVOCATIONS_FOR_CAUSE)


def _last_revoked_for_cause(card: type[Card] | AliasedClass[Card]) -> ColumnElement[bool]:
    """This card was revoked for cause, and its artisan has no later card."""
    later = aliased(Card)
    return card.revocation_reason.in_(_FOR_CAUSE) & ~exists().where(
        later.artisan_id == card.artisan_id, later.id > card.id
    )


def _blocking_card() -> ColumnElement[bool]:
    """The artisan has a card in force, or their last card was revoked for cause."""
    return exists().where(
        Card.artisan_id == Artisan.id, (Card.status != CardStatus.REVOKED) | _last_revoked_for_cause(Card)
    )


def holders_without_card(
    session: Session, limit: int, after_id: int = 0, region_code: str | None = None
) -> list[_HolderRow]:
    """Registered artisans with no card in force, by id, after `after_id` (keyset pagination:
    each page costs the same however many cards exist), of one region or all. Artisans whose last
    card was revoked for cause (deceased, fraud, left_trade) are left out: a new card for them is a
    deliberate act.

    One NOT EXISTS probe of card(artisan_id) per artisan, as cheap as the check for a card in force alone.
    """
    statement = (
        select(Artisan.id, Artisan.first_name_latin, Artisan.last_name_latin, Artisan.trade_code, Artisan.region_code)
        .where(Artisan.id > after_id, ~_blocking_card())
        .order_by(Artisan.id)
        .limit(limit)
    )
    if region_code is not None:
        statement = statement.where(Artisan.region_code == region_code)
    rows = session.execute(statement)
    return [_HolderRow(id_, f"{first} {last}", trade, region) for id_, first, last, trade, region in rows]


def count_holders_without_card(session: Session, region_code: str | None = None) -> int:
    """How many artisans (of one region, or all) the roll-out would give a card now."""
    statement = select(func.count()).select_from(Artisan).where(~_blocking_card())
    if region_code is not None:
        statement = statement.where(Artisan.region_code == region_code)
    return session.scalar(statement) or 0


def holders_revoked_for_cause(
    session: Session, after_id: int, up_to_id: int | None, region_code: str | None = None
) -> Counter[RevocationReason]:
    """How many artisans with ids in (after_id, up_to_id] the roll-out leaves out, by the revocation
    reason of their last card (the keyset range of a page of holders_without_card: same cost per page)."""
    in_range = [Card.artisan_id > after_id] + ([Card.artisan_id <= up_to_id] if up_to_id is not None else [])
    statement = (
        select(Card.revocation_reason, func.count())
        .where(*in_range, _last_revoked_for_cause(Card))
        .group_by(Card.revocation_reason)
    )
    if region_code is not None:
        statement = statement.join(Artisan, Artisan.id == Card.artisan_id).where(Artisan.region_code == region_code)
    return Counter({RevocationReason(reason): count for reason, count in session.execute(statement)})


@dataclass(frozen=True)
class RolloutSummary:
    """What a roll-out did: cards issued (in all and by region), and artisans left out by the reason
    their last card was revoked."""

    issued: int
    skipped: Counter[RevocationReason]
    by_region: Counter[str] = field(default_factory=Counter)
    # The status indices of the cards issued, first and last of each chunk (cards_issued lists them).
    index_ranges: list[tuple[int, int]] = field(default_factory=list)


def cards_issued(session: Session, index_ranges: Sequence[Sequence[int]]) -> list[tuple[str, str]]:
    """Number and region code of the cards a roll-out issued (its summary's index ranges), in order."""
    rows: list[tuple[str, str]] = []
    for first, last in index_ranges:
        statement = (
            select(Card.number, Artisan.region_code)
            .join(Artisan, Artisan.id == Card.artisan_id)
            .where(Card.status_index.between(first, last))
            .order_by(Card.status_index)
        )
        rows.extend((number, region) for number, region in session.execute(statement))
    return rows


# Below this many cards, signing in this process costs less than starting a signing process.
SIGNING_PROCESS_FROM = 2_000


class _InProcess:
    """The signing pool's interface, signing at once in this process (a small roll-out)."""

    def submit(self, function: Callable[..., list[str]], *args: object) -> Future[list[str]]:
        future: Future[list[str]] = Future()
        future.set_result(function(*args))
        return future

    def __enter__(self) -> _InProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None


def roll_out(
    session_scope: Callable[[], AbstractContextManager[Session]],
    signer: Signer,
    actor: Actor,
    *,
    validity_years: int,
    chunk_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
    region_code: str | None = None,
    signing_process: bool = True,
) -> RolloutSummary:
    """Roll-out: a card for every registered artisan without one (of one region, or all), one
    transaction per chunk; artisans whose last card was revoked for cause are skipped and counted.

    Signing is pure computation on plain data: a worker process signs the next chunk while this one
    writes the current chunk. (Two signing workers were slower on the 2-core machines: the main
    process then competes with both.) `signing_process=False` signs here instead (a few cards: no
    process to start). A failed chunk rolls back alone (its status indices stay burnt, never
    reused); running again continues with the artisans still without a card. `progress(issued)`
    runs after each chunk is committed: an exception it raises (a cancelled job) stops the roll-out
    there, with every committed chunk kept.
    """
    private_key_pem = signer.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    issued = 0
    skipped: Counter[RevocationReason] = Counter()
    by_region: Counter[str] = Counter()
    index_ranges: list[tuple[int, int]] = []
    pool: ProcessPoolExecutor | _InProcess = (
        ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        if signing_process
        else _InProcess()
    )
    with pool:
        pool.submit(sign_card_tokens, private_key_pem, signer.kid, [])  # start the worker while we plan
        pending: tuple[BulkPlan, Future[list[str]]] | None = None
        after_id = 0
        size = max(1, chunk_size // 10)  # a small first chunk fills the pipeline sooner
        last_page_read = False
        while True:
            plan = None
            if not last_page_read:
                with session_scope() as session:
                    holders = holders_without_card(session, size, after_id, region_code)
                    # A full page ends at its last holder; a short one is the last page: count to the
                    # end, once (reading on after it would count the same skipped artisans again).
                    last_page_read = len(holders) < size
                    page_end = None if last_page_read else holders[-1].id
                    skipped += holders_revoked_for_cause(session, after_id, page_end, region_code)
                    size = chunk_size
                    plan = plan_bulk_issue(session, holders, validity_years=validity_years) if holders else None
                if holders:
                    after_id = holders[-1].id
            next_job = (plan, pool.submit(sign_card_tokens, private_key_pem, signer.kid, plan.claims)) if plan else None
            if pending is not None:
                done_plan, tokens = pending
                with session_scope() as session:
                    issued += insert_signed_cards(session, done_plan, tokens.result(), signer.kid, actor)
                by_region.update(claims.region for claims in done_plan.claims)
                # Each chunk's status indices are consecutive: two numbers say which cards it made.
                index_ranges.append((done_plan.claims[0].status_index, done_plan.claims[-1].status_index))
                if progress:
                    progress(issued)
            if next_job is None:
                return RolloutSummary(issued, skipped, by_region, index_ranges)
            pending = next_job


def issue_cards_to_all(
    session_scope: Callable[[], AbstractContextManager[Session]],
    signer: Signer,
    actor: Actor,
    *,
    validity_years: int,
    chunk_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """The number of cards `roll_out` issued (for callers that only count them, such as the bench)."""
    return roll_out(
        session_scope, signer, actor, validity_years=validity_years, chunk_size=chunk_size, progress=progress
    ).issued


def reissue_cards_signed_by(
    session_scope: Callable[[], AbstractContextManager[Session]],
    kid: str,
    signer: Signer,
    actor: Actor,
    *,
    chunk_size: int = 1_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Re-sign every card in force signed by key `kid` under the signing key, one transaction per
    chunk (rows locked), one audit event per card; returns how many were re-signed.

    Same numbers, status indices and expiries; a new token and key id. A re-signed card no longer
    matches, so an interrupted run continues where it stopped when run again.
    """
    with session_scope() as session:
        cards_to_reissue(session, kid, signer)
    reissued, after_id = 0, 0
    while True:
        with session_scope() as session:
            cards = session.scalars(
                select(Card)
                .where(Card.key_id == kid, Card.status != CardStatus.REVOKED, Card.id > after_id)
                .order_by(Card.id)
                .limit(chunk_size)
                .options(joinedload(Card.artisan))
                .with_for_update(of=Card)
            ).all()
            for card in cards:
                reissue_card(session, card, signer, actor)
        if not cards:
            return reissued
        after_id = cards[-1].id
        reissued += len(cards)
        if progress:
            progress(len(cards))

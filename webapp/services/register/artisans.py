"""Artisans of the register, read within a scope (an officer sees only their own region), and what
follows whenever artisans are written."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.models import Artisan, RegisterState
from webapp.services.scope import NATIONAL, RecordNotFound, Scope
from webapp.services.upserts import insert_if_absent

REGISTER_STATE_ID = 1


def get_artisan(session: Session, artisan_id: int, scope: Scope = NATIONAL) -> Artisan:
    """The artisan with this id if the scope covers it; RecordNotFound otherwise (no disclosure)."""
    statement = scope.filter_region(select(Artisan).where(Artisan.id == artisan_id), Artisan.region_code)
    artisan = session.scalar(statement)
    if artisan is None:
        raise RecordNotFound()
    return artisan


def list_artisans(session: Session, scope: Scope = NATIONAL, *, limit: int = 50, after_id: int = 0) -> list[Artisan]:
    """Artisans by id (keyset pagination), restricted to the scope's region."""
    statement = select(Artisan).where(Artisan.id > after_id).order_by(Artisan.id).limit(limit)
    return list(session.scalars(scope.filter_region(statement, Artisan.region_code)))


def artisans_written(session: Session, ids: Collection[int]) -> None:
    """Call after creating artisans or changing their attributes (forms, imports), in the same
    transaction: the register's artisans version moves on, so that every offer's eligibility list
    is rebuilt on its next request (eligibility reads trade, region, CNSS status, programmes...)."""
    if not ids:
        return
    # Atomic on both databases: the row is created once, then the counter moves under its row lock.
    insert_if_absent(session, RegisterState, {"id": REGISTER_STATE_ID, "artisans_version": 0}, ["id"])
    session.execute(
        update(RegisterState)
        .where(RegisterState.id == REGISTER_STATE_ID)
        .values(artisans_version=RegisterState.artisans_version + 1)
    )


def artisans_version(session: Session) -> int:
    """A number that changes whenever artisans are written (see artisans_written)."""
    return session.scalar(select(RegisterState.artisans_version).where(RegisterState.id == REGISTER_STATE_ID)) or 0

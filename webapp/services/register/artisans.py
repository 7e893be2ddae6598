"""Artisans of the register, read within a scope (an officer sees only their own region)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Artisan
from webapp.services.scope import NATIONAL, RecordNotFound, Scope


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

"""Likely duplicates: an artisan already in the register who may be the person being registered.

A new CIN does not make a new person: the same name, birth date and phone were registered four
times with four CINs. Before a new artisan is saved (and when an edit makes a record look like
another), the register looks for artisans who have

- the same phone number (its national significant number, search_keys.phone_key), or
- the same birth date and a similar name, in either script: the first names share a search key of
  the sound tier (Mohamed, Mohammed, Muhammad; محمد, مُحَمَّد) and so do the last names (El Alaoui,
  Alaoui), with the register search's own folding (webapp/models/search_keys.py).

Only artisans within the officer's scope are looked up (another region's record is never shown).
The person saving sees them and must confirm ("register anyway"): `check_duplicates` refuses with
`LikelyDuplicate` while a candidate was not shown, and the create or update event of the audit
trail keeps the ids of those shown (services/register/artisans.py).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from webapp.models import Artisan
from webapp.models.search_keys import SOUND_MARK, name_keys, phone_key
from webapp.services.errors import N_, DomainError
from webapp.services.register.artisan_fields import ArtisanRecord
from webapp.services.scope import Scope

MAX_SHOWN = 10  # candidates shown at most (the closest are the same phone or the same birth date)


@dataclass(frozen=True)
class Candidate:
    """An artisan who may be the one being registered, and why."""

    artisan: Artisan
    same_phone: bool
    similar_name: bool


class LikelyDuplicate(DomainError):
    """The record looks like artisans already in the register: shown, and to be confirmed."""

    code = "likely_duplicate"
    http_status = 409
    message = N_("This looks like an artisan already in the register: check the records shown, then confirm.")

    def __init__(self, candidates: list[Candidate]) -> None:
        super().__init__()
        self.candidates = candidates

    @property
    def ids(self) -> list[int]:
        return [candidate.artisan.id for candidate in self.candidates]


def _sounds(name: str) -> set[str]:
    """The sound keys of a name field (every transliteration of it shares one)."""
    return {key for key in name_keys(name) if key.startswith(SOUND_MARK)}


def similar_names(first: tuple[str, str], second: tuple[str, str]) -> bool:
    """Whether two (first name, last name) pairs are the same name in other spellings: the first
    names share a sound key and so do the last names."""
    return bool(_sounds(first[0]) & _sounds(second[0])) and bool(_sounds(first[1]) & _sounds(second[1]))


def likely_duplicates(
    session: Session, record: ArtisanRecord, scope: Scope, artisan_id: int | None = None
) -> list[Candidate]:
    """The artisans in the scope who may be the record's person (the edited artisan left out)."""
    phone = phone_key(record.phone)
    conditions = [Artisan.birth_date == record.birth_date]
    if phone:
        conditions.append(Artisan.phone_key == phone)
    statement = scope.filter_region(select(Artisan).where(or_(*conditions)), Artisan.region_code)
    if artisan_id is not None:
        statement = statement.where(Artisan.id != artisan_id)
    found = []
    for other in session.scalars(statement.order_by(Artisan.id.desc()).limit(500)):
        same_phone = bool(phone) and other.phone_key == phone
        similar = other.birth_date == record.birth_date and (
            similar_names(
                (record.first_name_latin, record.last_name_latin), (other.first_name_latin, other.last_name_latin)
            )
            or similar_names((record.first_name_ar, record.last_name_ar), (other.first_name_ar, other.last_name_ar))
        )
        if same_phone or similar:
            found.append(Candidate(other, same_phone, similar))
    return found[:MAX_SHOWN]


def check_duplicates(
    session: Session,
    record: ArtisanRecord,
    scope: Scope,
    confirmed: Collection[int] | None,
    artisan_id: int | None = None,
) -> list[int]:
    """The ids of the likely duplicates the person confirmed having seen; LikelyDuplicate when any
    candidate was not among those shown (`confirmed`: the ids shown and confirmed, None: nothing
    confirmed yet)."""
    candidates = likely_duplicates(session, record, scope, artisan_id)
    if not candidates:
        return []
    shown = set(confirmed or ())
    if confirmed is None or any(candidate.artisan.id not in shown for candidate in candidates):
        raise LikelyDuplicate(candidates)
    return sorted(candidate.artisan.id for candidate in candidates)

"""What records a person may see: the whole register (administrators), one region (registry
officers) or one organisation (partner staff and systems).

Services take a Scope and apply it in their queries, so a record outside it is simply not found:
another region's artisan answers 404, exactly like a record that does not exist (its existence
is not disclosed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from webapp.services.errors import N_, DomainError

Statement = TypeVar("Statement", bound=Select[Any])


class RecordNotFound(DomainError):
    """No such record, or none that this person may see."""

    code = "not_found"
    http_status = 404
    message = N_("No such record.")


@dataclass(frozen=True)
class Scope:
    """None means "no restriction" on that axis."""

    region_code: str | None = None
    organisation_id: int | None = None

    @property
    def is_national(self) -> bool:
        return self.region_code is None and self.organisation_id is None

    def covers_region(self, region_code: str) -> bool:
        return self.region_code is None or self.region_code == region_code

    def filter_region(self, statement: Statement, column: InstrumentedAttribute[str]) -> Statement:
        """Restrict a query to the scope's region (a no-op for a national scope)."""
        return statement if self.region_code is None else statement.where(column == self.region_code)

    def filter_organisation(self, statement: Statement, column: InstrumentedAttribute[int]) -> Statement:
        """Restrict a query to the scope's organisation (a no-op when it has none)."""
        return statement if self.organisation_id is None else statement.where(column == self.organisation_id)


NATIONAL = Scope()
# Matches no row: no region has an empty code and no organisation has id 0.
NOTHING = Scope(region_code="", organisation_id=0)

"""RNA numbers (Registre National de l'Artisanat): given by the system, per region.

A number is `RNA-RR-NNNNNNN`: the region's code (01 to 12) and a seven-digit serial, e.g.
RNA-03-0001234 (docs/operations.md). An officer never types one: `allocate_rna_numbers` takes
the next serials of the region from its counter row (`rna_counter`), in one UPDATE ... RETURNING
under the row's lock: two registrations at once wait for each other's lock (PostgreSQL) or for the
database's single writer (SQLite) and never get the same serial. A registration rolled back leaves
its serial unused: the register tolerates gaps, never duplicates.

Imports may bring numbers already given (by a chamber's earlier register): `check_rna_region` says
whether a number belongs to the row's region, and `keep_counters_above` moves each counter past
the highest serial written, so the next allocated number never collides with one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from webapp.models import Artisan, RnaCounter
from webapp.services.upserts import insert_if_absent

RNA_PATTERN = re.compile(r"RNA-(?P<region>[0-9]{2})-(?P<serial>[0-9]{7})")
RNA_EXAMPLE = "RNA-03-0001234"
MAX_SERIAL = 9_999_999


def format_rna(region_code: str, serial: int) -> str:
    """The RNA number of a region's serial."""
    return f"RNA-{region_code}-{serial:07d}"


def rna_region(number: str) -> str | None:
    """The region code an RNA number belongs to, or None if it is not well formed."""
    match = RNA_PATTERN.fullmatch(number)
    return match["region"] if match else None


def highest_serial(session: Session, region_code: str) -> int:
    """The highest serial of the region's well-formed numbers in the register (0 if none)."""
    # Fixed width: the greatest well-formed string is the highest serial.
    prefix = f"RNA-{region_code}-"
    highest = session.scalar(
        select(func.max(Artisan.rna_number)).where(
            Artisan.rna_number.startswith(prefix, autoescape=True), func.length(Artisan.rna_number) == 14
        )
    )
    match = RNA_PATTERN.fullmatch(highest or "")
    return int(match["serial"]) if match else 0


def _ensure_counter(session: Session, region_code: str) -> None:
    # Atomic: a concurrent first allocation inserts the same row; one of them gives way.
    insert_if_absent(
        session,
        RnaCounter,
        {"region_code": region_code, "last_serial": highest_serial(session, region_code)},
        ["region_code"],
    )


def allocate_rna_numbers(session: Session, region_code: str, count: int = 1) -> list[str]:
    """The next `count` RNA numbers of the region, taken from its counter in one atomic UPDATE."""
    if count <= 0:
        return []
    _ensure_counter(session, region_code)
    last = session.execute(
        update(RnaCounter)
        .where(RnaCounter.region_code == region_code)
        .values(last_serial=RnaCounter.last_serial + count)
        .returning(RnaCounter.last_serial)
    ).scalar_one()
    if last > MAX_SERIAL:
        raise OverflowError(f"region {region_code} has no RNA serial left")
    return [format_rna(region_code, serial) for serial in range(last - count + 1, last + 1)]


def allocate_rna_number(session: Session, region_code: str) -> str:
    """The next RNA number of the region."""
    return allocate_rna_numbers(session, region_code, 1)[0]


def keep_counters_above(session: Session, numbers: Iterable[str]) -> None:
    """Move each region's counter past the highest of these numbers (written by an import)."""
    highest: dict[str, int] = {}
    for number in numbers:
        match = RNA_PATTERN.fullmatch(number)
        if match:
            highest[match["region"]] = max(highest.get(match["region"], 0), int(match["serial"]))
    for region_code, serial in sorted(highest.items()):
        _ensure_counter(session, region_code)
        session.execute(
            update(RnaCounter)
            .where(RnaCounter.region_code == region_code)
            .values(last_serial=case((RnaCounter.last_serial < serial, serial), else_=RnaCounter.last_serial))
        )

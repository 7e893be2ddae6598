"""Shared set-up of the benchmarks: a throwaway database of registered artisans with their cards.

Not a benchmark itself. bench/issue_all.py, bench/verify_load.py, bench/eligibility.py and bench/scan.py
build their database with it:

- a temporary directory holds the SQLite file and the KEYS_DIR (removed at exit);
- the schema comes from the Alembic migrations (webapp.migrations.upgrade_database), then the
  reference data and the status-list row (webapp.services.register.reference_data.prepare_reference_data);
- one ES256 key is generated (webapp.services.trust.signing_keys.generate_key) and becomes the signer;
- artisans are registered with webapp.services.bulk.bulk_insert of plain dicts (realistic names from
  webapp/services/demo.py, the 12 regions round-robin, trades from reference_data.TRADES), with
  their search keys (webapp.models.search_keys.search_columns, what the ORM would write);
- cards are issued with webapp.services.cards.rollout.issue_cards_to_all (what `cards issue-all` runs).

The engine is webapp.db.Database, so SQLite runs with the app's own pragmas (WAL, foreign keys,
synchronous=NORMAL).
"""

from __future__ import annotations

import random
import runpy
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, inspect, select, text

from webapp.db import Database
from webapp.migrations import upgrade_database
from webapp.models import Artisan, Base, Card, CnssStatus, Gender, LegalStatus
from webapp.models.search_keys import search_columns
from webapp.services.audit import Actor
from webapp.services.bulk import bulk_insert
from webapp.services.cards.rollout import issue_cards_to_all
from webapp.services.cards.tokens import qr_text
from webapp.services.demo import (
    COOPERATIVES,
    FAMILY_NAMES,
    FEMALE_NAMES,
    LONGEST_NAME,
    MALE_NAMES,
    PROVINCES,
)
from webapp.services.register.reference_data import REGIONS, TRADES, prepare_reference_data
from webapp.services.trust.signing_keys import Signer, generate_key, load_keyring
from webapp.settings import PROJECT_ROOT

BENCH_ACTOR = Actor("system:bench")
NATIONAL_ARTISANS = 622_000
_DEFAULTS = runpy.run_path(str(PROJECT_ROOT / "config" / "defaults.py"))
DEFAULT_PUBLIC_BASE_URL: str = _DEFAULTS["PUBLIC_BASE_URL"]
VALIDITY_YEARS: int = _DEFAULTS["CARD_VALIDITY_YEARS"]
REGISTER_BATCH = 50_000  # rows per executemany: bounds the memory of the dicts, not the speed
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_LONGEST_TRADE = max((code for code, *_rest in TRADES), key=len)


@dataclass
class BenchDatabase:
    url: str
    keys_dir: Path
    database: Database
    signer: Signer

    @property
    def engine(self) -> Engine:
        return self.database.engine


@contextmanager
def workspace() -> Iterator[Path]:
    """A temporary directory for the database, the keys and generated files; removed at exit."""
    with tempfile.TemporaryDirectory(prefix="carte-bench-") as directory:
        yield Path(directory)


def prepare_database(directory: Path, database_url: str | None = None, *, drop_existing: bool = False) -> BenchDatabase:
    """Migrate a fresh database, add the reference data and an active signing key.

    Without database_url: SQLite in `directory`. With one (e.g. PostgreSQL), the database must be
    empty unless drop_existing, which first drops every table of the models (and alembic_version).
    """
    url = database_url or f"sqlite:///{directory / 'bench.sqlite3'}"
    keys_dir = directory / "keys"
    database = Database(url)
    existing = inspect(database.engine).get_table_names()
    if existing:
        if not drop_existing:
            database.engine.dispose()
            raise SystemExit(f"{url} already has tables ({', '.join(sorted(existing)[:5])}...): pass --drop-existing")
        Base.metadata.drop_all(database.engine)
        with database.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade_database(url)
    with database.session_scope() as session:
        prepare_reference_data(session)
        generate_key(session, keys_dir, BENCH_ACTOR)
    with database.session_scope() as session:
        signer = load_keyring(session, keys_dir).require_signer()
    return BenchDatabase(url, keys_dir, database, signer)


def artisan_rows(rng: random.Random, start: int, stop: int, last_serial: int, now: datetime) -> list[dict[str, Any]]:
    """Plain dicts for Core insert, shaped like webapp.services.demo's artisans."""
    legal_statuses = list(LegalStatus)
    cnss_statuses = list(CnssStatus)
    trades = [code for code, *_rest in TRADES]
    choice, randint, random_ = rng.choice, rng.randint, rng.random
    rows = []
    for serial in range(start, stop):
        region_code = REGIONS[serial % len(REGIONS)][0]
        gender = Gender.FEMALE if random_() < 0.5 else Gender.MALE
        first_latin, first_ar = choice(FEMALE_NAMES if gender == Gender.FEMALE else MALE_NAMES)
        last_latin, last_ar = choice(FAMILY_NAMES)
        trade_code = choice(trades)
        if serial == last_serial:
            # The worst case for the QR code: the longest name (40 characters), the longest trade
            # code and the highest status index (issued last).
            gender = Gender.MALE
            (first_latin, first_ar), (last_latin, last_ar) = LONGEST_NAME
            trade_code = _LONGEST_TRADE
        legal_status = choice(legal_statuses)
        birth_year = randint(1958, 2004)
        rows.append(
            {
                "rna_number": f"RNA-{region_code}-{serial + 1:07d}",
                "cin": f"{choice(_LETTERS)}{choice(_LETTERS)}{100000 + serial:06d}",
                "first_name_latin": first_latin,
                "last_name_latin": last_latin,
                "first_name_ar": first_ar,
                "last_name_ar": last_ar,
                "birth_date": date(birth_year, randint(1, 12), randint(1, 28)),
                "gender": gender,
                "phone": f"+2126{randint(10000000, 99999999)}",
                "region_code": region_code,
                "province": choice(PROVINCES[region_code]),
                "trade_code": trade_code,
                "legal_status": legal_status,
                "cnss_status": choice(cnss_statuses),
                "cooperative_name": choice(COOPERATIVES) if legal_status == LegalStatus.COOPERATIVE_MEMBER else None,
                "activity_start_year": randint(max(birth_year + 14, 1975), 2025),
                # The postal address (issue 16: print batches' letters), where most artisans have one.
                "address_line": f"{randint(1, 250)}, derb {choice(COOPERATIVES).split()[-1]}",
                "postal_code": f"{randint(10, 93)}{randint(0, 999):03d}",
                "city": choice(PROVINCES[region_code]),
                "registered_at": now,
            }
        )
        # The derived search columns, as the ORM would write them (the search index follows them).
        rows[-1].update(search_columns(rows[-1]))
    return rows


def register_artisans(bench: BenchDatabase, count: int, seed: int = 50_17, *, first_serial: int = 0) -> None:
    """Register `count` artisans in one transaction (webapp.services.bulk.bulk_insert of plain dicts);
    `first_serial` numbers them after those of an earlier call (RNA numbers and CINs are unique)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    stop_serial = first_serial + count
    with bench.database.session_scope() as session:
        for start in range(first_serial, stop_serial, REGISTER_BATCH):
            stop = min(start + REGISTER_BATCH, stop_serial)
            rows = artisan_rows(rng, start, stop, stop_serial - 1, now)
            # Many rows per statement: the search index's trigger costs a flush per statement.
            bulk_insert(session, Artisan.__table__, rows, rows_per_statement=1_000)


def issue_cards(bench: BenchDatabase, chunk_size: int, progress: Callable[[int, float], None] | None = None) -> int:
    """Issue a card to every registered artisan with the roll-out service (`cards issue-all`)."""
    started = time.perf_counter()
    return issue_cards_to_all(
        bench.database.session_scope,
        bench.signer,
        BENCH_ACTOR,
        validity_years=VALIDITY_YEARS,
        chunk_size=chunk_size,
        progress=(lambda issued: progress(issued, time.perf_counter() - started)) if progress else None,
    )


def count_cards(bench: BenchDatabase) -> int:
    with bench.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(Card)) or 0


def sample_qr_texts(bench: BenchDatabase, public_base_url: str, count: int, seed: int = 7) -> list[str]:
    """The QR texts of `count` distinct cards drawn at random (by status index)."""
    with bench.engine.connect() as connection:
        total = connection.scalar(select(func.max(Card.status_index))) or 0
        wanted = random.Random(seed).sample(range(total + 1), min(count, total + 1))
        tokens: list[str] = []
        for start in range(0, len(wanted), 1000):  # stay well under SQLite's bound-parameter limit
            part = wanted[start : start + 1000]
            tokens += connection.scalars(select(Card.token).where(Card.status_index.in_(part))).all()
    return [qr_text(public_base_url, token) for token in tokens]


def build_database_with_cards(
    directory: Path,
    artisans: int,
    *,
    database_url: str | None = None,
    drop_existing: bool = False,
    chunk_size: int = 20_000,
    log: Callable[[str], None] = print,
) -> BenchDatabase:
    """The whole set-up of verify_load: migrate, register, issue, with the time of each step."""
    started = time.perf_counter()
    bench = prepare_database(directory, database_url, drop_existing=drop_existing)
    log(f"setup: migrated {bench.url} in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    register_artisans(bench, artisans)
    log(f"setup: registered {artisans:,} artisans in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    issued = issue_cards(bench, chunk_size)
    log(f"setup: issued {issued:,} cards in {time.perf_counter() - started:.1f} s")
    return bench


def create_partner_with_key(bench: BenchDatabase, slug: str = "barid-colis") -> str:
    """One demo partner (by slug, from webapp/services/partners/demo.py) with its approved offers, and
    an API key for its system; returns the key's plaintext."""
    from webapp.models import Organisation
    from webapp.services.partners.api_keys import create_api_key
    from webapp.services.partners.demo import DEMO_PARTNERS, approve_demo_offers

    _slug, kind, name, _stem, offers = next(partner for partner in DEMO_PARTNERS if partner[0] == slug)
    with bench.database.session_scope() as session:
        organisation = Organisation(slug=slug, kind_code=kind, name=name)
        session.add(organisation)
        session.flush()
        approve_demo_offers(session, organisation, offers, BENCH_ACTOR, valid_from=date(2000, 1, 1))
        return create_api_key(session, organisation, "bench load generator", BENCH_ACTOR).plaintext

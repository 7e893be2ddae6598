"""Benchmark: 200 typical searches of the register (webapp.services.register.search.search_artisans)
on the national register, SQLite (FTS5) and PostgreSQL (GIN).

What it measures: the wall-clock time of one search as a back-office request makes it (a session
opened, one page of 50 rows read with each artisan's current card, the session closed), per kind
of search and overall, after 20 searches of warm-up. Target: p95 <= 100 ms overall (issue 9);
each kind's p95 is shown against it too. Half of the searches run in an officer's scope (one region).

The 200 searches, drawn from artisans sampled at random (seeded, so two runs ask the same things):
  name-latin      35  first and/or last name as registered, in any case
  name-variant    30  another transliteration (Muhammad for Mohamed, Youssouf, Fatma, Lahçen,
                      Alaoui for El Alaoui, Wazzani...), the second tier of matches
  name-arabic     30  Arabic names with tashkeel, tatweel, another alef or ta marbuta as ha
  cin             15  a CIN, in lower case or spaced
  card            15  a card number, in lower case
  phone           10  a phone in one of its forms (06..., +212 6..., 00212...)
  list            35  filters without text: region, trade, card status (suspended, revoked,
                      expired, none), gender, CNSS status, programme, in combinations
  next-page       30  page 2 to 6 of a name search or a list (the time of the last page only)

Set-up (timed and printed, not counted), in a temporary directory: bench/_setup.py's builder (a
fresh SQLite database or --postgres URL, Alembic migrations, reference data, one ES256 key, the
artisans with demo-like names and their search keys, a card for each with the roll-out service),
then 2% more artisans registered last without a card (the newest registrations await their
cards), some cards suspended (1%), revoked (1.5%) and expired (1%), and programme memberships
(half the women in WOMEN, a third of carpet and pottery artisans in EXCELLENCE, 3% in EXPORT).
PostgreSQL is ANALYZEd once (what autovacuum does after a load); SQLite runs as the app runs it.

Run (from the project root):
  .venv/bin/python bench/search.py                           # 622,000 artisans, SQLite
  .venv/bin/python bench/search.py --artisans 100000         # quicker
  .venv/bin/python bench/search.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench --drop-existing
  .venv/bin/python bench/search.py --postgres URL --skip-sqlite
  .venv/bin/python bench/search.py --sqlite-file /tmp/register.sqlite3   # keep the database...
  .venv/bin/python bench/search.py --sqlite-file /tmp/register.sqlite3 --reuse   # ...and search it again
  .venv/bin/python bench/search.py --postgres URL --skip-sqlite --reuse          # PostgreSQL as last built
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import bindparam, func, insert, select, text, update

from bench._setup import (
    NATIONAL_ARTISANS,
    BenchDatabase,
    build_database_with_cards,
    register_artisans,
    workspace,
)
from webapp.db import Database
from webapp.models import Artisan, Card, artisan_programme, utcnow
from webapp.services.register.reference_data import REGIONS, TRADES
from webapp.services.register.search import ArtisanQuery, search_artisans
from webapp.services.scope import NATIONAL, Scope

TARGET_P95_MS = 100.0
WARM_UP = 20
WITHOUT_CARD_SHARE = 0.02
KINDS = {
    "name-latin": 35,
    "name-variant": 30,
    "name-arabic": 30,
    "cin": 15,
    "card": 15,
    "phone": 10,
    "list": 35,
    "next-page": 30,
}
# Other transliterations of the demo names (webapp/services/demo.py), as an officer might type them.
LATIN_VARIANTS = {
    "Mohamed": ["Muhammad", "Mohammed", "Mohamad", "Mouhamed"],
    "Mohamed Amine": ["Mohammed Amine", "Muhammad Amin"],
    "Youssef": ["Youssouf", "Yousef", "Yusuf"],
    "Fatima Zahra": ["Fatma Zahra", "Fatema Zohra", "Fatimazahra"],
    "Lahcen": ["Lahçen", "Lahsen"],
    "Abderrahmane": ["Abdurrahman", "Abd er-Rahmane"],
    "Abdelkader": ["Abdul Kader", "Abdelkadir"],
    "Abdelilah": ["Abd El Ilah"],
    "Mustapha": ["Mustafa", "Moustafa"],
    "Aicha": ["Aïcha", "Aisha"],
    "Khadija": ["Khadidja"],
    "Hassan": ["Hasan"],
    "Meryem": ["Mariem"],
    "Brahim": ["BRAHIM"],
    "Said": ["Saïd"],
    "Hafsa": ["Hafssa"],
    "El Alaoui": ["Alaoui", "Al-Alaoui"],
    "El Idrissi": ["Idrissi", "Al Idrissi"],
    "Ouazzani": ["Wazzani", "El Ouazzani"],
    "Ait Ouahmane": ["Ait Wahmane", "Aït Ouahmane"],
    "Benjelloun": ["Benjeloun", "Ben Jelloun"],
    "Bennani": ["Benani"],
    "Chraibi": ["Chraïbi", "Shraibi"],
    "Fassi Fihri": ["Fassi-Fihri"],
}
ARABIC_MARKS = "\u064e\u064f\u0650\u0651\u0652"  # fatha, damma, kasra, shadda, sukun


@dataclass
class Search:
    kind: str
    scope: Scope
    query: ArtisanQuery
    pages: int = 1  # next-page: how many pages to walk; the last one is timed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artisans", type=int, default=NATIONAL_ARTISANS, help="artisans in the register")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database (empty)")
    parser.add_argument("--drop-existing", action="store_true", help="drop the tables of --postgres first")
    parser.add_argument("--skip-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--sqlite-file", type=Path, help="build the SQLite database in this file, and keep it")
    parser.add_argument(
        "--reuse", action="store_true", help="search the databases an earlier run built (--sqlite-file, --postgres)"
    )
    parser.add_argument("--seed", type=int, default=9, help="seed of the sampled searches")
    args = parser.parse_args()
    if args.artisans < 1_000:
        parser.error("--artisans must be at least 1000")
    if args.skip_sqlite and not args.postgres:
        parser.error("--skip-sqlite needs --postgres")
    if args.reuse and not (args.postgres or args.sqlite_file):
        parser.error("--reuse needs --sqlite-file or --postgres")
    return args


def build(directory: Path, artisans: int, database_url: str | None, drop_existing: bool) -> BenchDatabase:
    """The register: artisans with cards, the newest without, cards in every state, programmes."""
    without_card = int(artisans * WITHOUT_CARD_SHARE)
    bench = build_database_with_cards(
        directory, artisans - without_card, database_url=database_url, drop_existing=drop_existing
    )
    started = time.perf_counter()
    register_artisans(bench, without_card, seed=77, first_serial=artisans - without_card)
    rng, now = random.Random(5017), utcnow()
    with bench.engine.begin() as connection:
        card_ids = connection.scalars(select(Card.id)).all()
        # 1% suspended, 1.5% revoked, 1% expired, drawn at random (not by id, which follows the region).
        count = len(card_ids)
        changed = rng.sample(card_ids, count * 35 // 1000)
        first_revoked, first_expired = count // 100, count // 100 + count * 15 // 1000
        suspended, revoked = changed[:first_revoked], changed[first_revoked:first_expired]
        expired = changed[first_expired:]
        cards = Card.__table__
        states = [
            (suspended, {"status": "suspended", "status_reason": "bench"}),
            (revoked, {"status": "revoked", "revocation_reason": "lost", "status_reason": "lost"}),
            (expired, {"issued_at": now - timedelta(days=6 * 366), "expires_at": now - timedelta(days=30)}),
        ]
        for ids, values in states:
            statement = update(cards).where(cards.c.id == bindparam("card_id")).values(**values)
            connection.execute(statement, [{"card_id": card_id} for card_id in ids])
        women = connection.scalars(select(Artisan.id).where(Artisan.gender == "female")).all()
        crafts = connection.scalars(select(Artisan.id).where(Artisan.trade_code.in_(["TAP", "POT"]))).all()
        everyone = connection.scalars(select(Artisan.id)).all()
        members = [
            ("WOMEN", rng.sample(women, len(women) // 2)),
            ("EXCELLENCE", rng.sample(crafts, len(crafts) // 3)),
            ("EXPORT", rng.sample(everyone, len(everyone) * 3 // 100)),
        ]
        for code, ids in members:
            connection.execute(insert(artisan_programme), [{"artisan_id": i, "programme_code": code} for i in ids])
        if connection.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))
    elapsed = time.perf_counter() - started
    print(f"setup: {without_card:,} artisans without a card, card states and programmes in {elapsed:.1f} s")
    return bench


def _arabic_variant(rng: random.Random, name: str) -> str:
    """The name with the marks and letter forms officers' keyboards give: tashkeel, tatweel,
    hamza on an initial alef, ta marbuta written as ha."""
    choice = rng.randrange(4)
    if choice == 0:
        return "".join(char + (rng.choice(ARABIC_MARKS) if char != " " and rng.random() < 0.6 else "") for char in name)
    if choice == 1:
        return name.replace("م", "مـ", 1).replace("ح", "حـ", 1)
    if choice == 2:
        return " ".join("أ" + word[1:] if word.startswith("ا") else word for word in name.split())
    return name.replace("ة", "ه").replace("ى", "ي")


@dataclass(frozen=True)
class Sampled:
    """An artisan the searches are drawn from."""

    first_name_latin: str
    last_name_latin: str
    first_name_ar: str
    last_name_ar: str
    cin: str
    phone: str
    region_code: str

    @property
    def name_latin(self) -> str:
        return f"{self.first_name_latin} {self.last_name_latin}"


def plan(database: Database, seed: int) -> list[Search]:
    """The searches, drawn from artisans sampled at random, in a shuffled order."""
    rng = random.Random(seed)
    with database.engine.connect() as connection:
        top = connection.scalar(select(func.max(Artisan.id))) or 0
        ids = rng.sample(range(1, top + 1), 400)
        columns = [Artisan.__table__.c[name] for name in Sampled.__dataclass_fields__]
        sampled = [Sampled(*row) for row in connection.execute(select(*columns).where(Artisan.id.in_(ids)))]
        numbers = connection.scalars(select(Card.number).where(Card.artisan_id.in_(ids))).all()

    def scope_for(region_code: str) -> Scope:
        return Scope(region_code=region_code) if rng.random() < 0.5 else NATIONAL

    def latin(artisan: Sampled) -> str:
        name = rng.choice([artisan.last_name_latin, artisan.first_name_latin, artisan.name_latin])
        return rng.choice([name, name.lower(), name.upper()])

    def variant(artisan: Sampled) -> str:
        first = rng.choice(LATIN_VARIANTS.get(artisan.first_name_latin, [artisan.first_name_latin.lower()]))
        last = rng.choice(LATIN_VARIANTS.get(artisan.last_name_latin, [artisan.last_name_latin]))
        return rng.choice([first, f"{first} {last}", last])

    def arabic(artisan: Sampled) -> str:
        first, last = artisan.first_name_ar, artisan.last_name_ar
        return _arabic_variant(rng, rng.choice([first, last, f"{first} {last}"]))

    def cin(artisan: Sampled) -> str:
        return rng.choice([artisan.cin.lower(), f"{artisan.cin[:2]} {artisan.cin[2:]}"])

    def phone(artisan: Sampled) -> str:
        national = artisan.phone.removeprefix("+212")
        spaced = f"0{national[0]} {national[1:3]} {national[3:5]} {national[5:7]} {national[7:]}"
        return rng.choice([f"0{national}", artisan.phone, f"00212{national}", spaced])

    def filters() -> dict[str, str]:
        region, trade = rng.choice(REGIONS)[0], rng.choice(TRADES)[0]
        return rng.choice(
            [
                {"region_code": region},
                {"region_code": region, "trade_code": trade},
                {"region_code": region, "card_status": "active"},
                {"region_code": region, "card_status": "suspended"},
                {"card_status": rng.choice(["suspended", "revoked", "expired", "none"])},
                {"gender": "female", "cnss_status": "registered"},
                {"programme_code": rng.choice(["WOMEN", "EXCELLENCE", "EXPORT"])},
                {"trade_code": trade, "gender": "female", "region_code": region},
            ]
        )

    searches: list[Search] = []
    texts: dict[str, Callable[[Sampled], str]] = {
        "name-latin": latin,
        "name-variant": variant,
        "name-arabic": arabic,
        "cin": cin,
        "phone": phone,
    }
    for kind, text_of in texts.items():
        for artisan in rng.choices(sampled, k=KINDS[kind]):
            searches.append(Search(kind, scope_for(artisan.region_code), ArtisanQuery(text=text_of(artisan))))
    for number in rng.sample(numbers, KINDS["card"]):
        searches.append(Search("card", NATIONAL, ArtisanQuery(text=number.lower())))
    for _ in range(KINDS["list"]):
        query = ArtisanQuery(**filters())
        searches.append(Search("list", scope_for(query.region_code or rng.choice(REGIONS)[0]), query))
    for artisan in rng.choices(sampled, k=KINDS["next-page"]):
        query = rng.choice(
            [ArtisanQuery(text=latin(artisan)), ArtisanQuery(text=variant(artisan)), ArtisanQuery(**filters())]
        )
        searches.append(Search("next-page", scope_for(artisan.region_code), query, pages=rng.randint(2, 6)))
    rng.shuffle(searches)
    return searches


def run_search(database: Database, search: Search) -> tuple[float, int]:
    """Seconds of the search's last page, and how many rows it showed."""
    cursor = None
    for page_number in range(1, search.pages + 1):
        started = time.perf_counter()
        with database.session_scope() as session:
            page = search_artisans(session, search.scope, search.query, after=cursor)
        elapsed = time.perf_counter() - started
        if page.next_cursor is None or page_number == search.pages:
            return elapsed, len(page.rows)
        cursor = page.next_cursor
    raise AssertionError("unreachable")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(label: str, timings: dict[str, list[float]], shown: dict[str, list[int]]) -> bool:
    print()
    print(f"{label}: {sum(len(v) for v in timings.values())} searches (ms, one page of at most 50 rows)")
    print(f"  {'kind':<13} {'n':>4} {'p50':>8} {'p95':>8} {'max':>8}  {'rows/page':>9}")
    for kind in KINDS:
        values = [t * 1000 for t in timings[kind]]
        mark = "" if percentile(values, 0.95) <= TARGET_P95_MS else "  (over target)"
        print(
            f"  {kind:<13} {len(values):>4} {statistics.median(values):>8.1f} {percentile(values, 0.95):>8.1f} "
            f"{max(values):>8.1f}  {statistics.mean(shown[kind]):>9.1f}{mark}"
        )
    everything = [t * 1000 for values in timings.values() for t in values]
    p95 = percentile(everything, 0.95)
    print(
        f"  {'overall':<13} {len(everything):>4} {statistics.median(everything):>8.1f} {p95:>8.1f} "
        f"{max(everything):>8.1f}"
    )
    passed = p95 <= TARGET_P95_MS
    print(f"  target p95 <= {TARGET_P95_MS:.0f} ms: {'PASS' if passed else 'MISS'}")
    return passed


def bench_one(label: str, directory: Path, args: argparse.Namespace, database_url: str | None) -> None:
    print(f"== {label}")
    if args.reuse:
        database = Database(database_url or f"sqlite:///{args.sqlite_file}")
    else:
        print(f"setup: {args.artisans:,} artisans")
        drop_existing = args.drop_existing or (database_url is None and args.sqlite_file is not None)
        database = build(directory, args.artisans, database_url or _sqlite_url(args), drop_existing).database
    try:
        with database.engine.connect() as connection:
            print(f"register: {connection.scalar(select(func.count()).select_from(Artisan)):,} artisans")
        searches = plan(database, args.seed)
        for search in searches[:WARM_UP]:
            run_search(database, search)
        timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
        shown: dict[str, list[int]] = {kind: [] for kind in KINDS}
        for search in searches:
            elapsed, rows = run_search(database, search)
            timings[search.kind].append(elapsed)
            shown[search.kind].append(rows)
        report(label, timings, shown)
    finally:
        database.engine.dispose()


def _sqlite_url(args: argparse.Namespace) -> str | None:
    return f"sqlite:///{args.sqlite_file.resolve()}" if args.sqlite_file else None


def main() -> None:
    args = parse_args()
    if not args.skip_sqlite:
        with workspace() as directory:
            bench_one("SQLite (FTS5)", directory, args, None)
    if args.postgres:
        with workspace() as directory:
            bench_one("PostgreSQL (GIN)", directory, args, args.postgres)


if __name__ == "__main__":
    main()

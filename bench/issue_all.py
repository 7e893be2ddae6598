"""Benchmark: issue a card to every artisan of the national register (622,000).

What it measures: the wall-clock time of webapp.services.cards.issue_cards_to_all, the national
roll-out that `flask --app wsgi cards issue-all` runs (card numbers, ES256 signatures in a second
process, status-list indices, the card rows and one audit event per card, one transaction per chunk),
against the target of 60 s for 622,000 artisans on 2 cores. The QR version of the longest token
(a 40-character Latin name, the longest trade code, the highest status index) is printed too.

Set-up (timed and printed, but not counted as issuance), all in a temporary directory:
  a fresh SQLite database (or --database-url), migrated with the Alembic migrations, the reference
  data, one ES256 signing key in a temporary KEYS_DIR, then N artisans registered with Core
  executemany (realistic names from webapp/services/demo.py, 12 regions round-robin).

Run (from the project root):
  .venv/bin/python bench/issue_all.py                      # 622,000 artisans, SQLite
  .venv/bin/python bench/issue_all.py --artisans 50000     # quicker; the target is scaled
  .venv/bin/python bench/issue_all.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test --drop-existing
  .venv/bin/python bench/issue_all.py --profile            # cProfile of the issuance, top functions
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from bench._setup import (
    DEFAULT_PUBLIC_BASE_URL,
    NATIONAL_ARTISANS,
    BenchDatabase,
    count_cards,
    issue_cards,
    prepare_database,
    register_artisans,
    workspace,
)
from webapp.models import Artisan, Card
from webapp.services.cards.qr import card_qr
from webapp.services.cards.tokens import qr_text

TARGET_SECONDS = 60.0  # for NATIONAL_ARTISANS on 2 cores


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artisans", type=int, default=NATIONAL_ARTISANS, help="artisans to register and issue")
    parser.add_argument("--chunk-size", type=int, default=20_000, help="artisans per chunk (one transaction each)")
    parser.add_argument("--database-url", help="a database to use instead of a temporary SQLite file")
    parser.add_argument("--drop-existing", action="store_true", help="drop the tables of --database-url first")
    parser.add_argument("--public-base-url", default=DEFAULT_PUBLIC_BASE_URL, help="the QR text's URL prefix")
    parser.add_argument("--profile", action="store_true", help="run the issuance under cProfile and print the top")
    args = parser.parse_args()
    if args.artisans < 1 or args.chunk_size < 1:
        parser.error("--artisans and --chunk-size must be positive")
    return args


def longest_token_line(bench: BenchDatabase, public_base_url: str) -> str:
    """The QR version of the longest stored token, with its name length."""
    query = (
        select(Card.token, Artisan.first_name_latin, Artisan.last_name_latin)
        .join(Artisan, Card.artisan_id == Artisan.id)
        .order_by(func.length(Card.token).desc(), Card.id.desc())
        .limit(1)
    )
    with bench.engine.connect() as connection:
        token, first, last = connection.execute(query).one()
    name = f"{first} {last}"
    qr = card_qr(public_base_url, token)
    return (
        f"longest token: {len(token)} chars, name {name!r} ({len(name)} chars), "
        f"QR text {len(qr_text(public_base_url, token))} chars -> QR version {qr.version} (ECC M)"
    )


def main() -> None:
    args = parse_args()
    with workspace() as directory:
        started = time.perf_counter()
        bench = prepare_database(directory, args.database_url, drop_existing=args.drop_existing)
        print(f"database: {bench.url.split('@')[-1]} (migrated in {time.perf_counter() - started:.1f} s)")
        try:
            started = time.perf_counter()
            register_artisans(bench, args.artisans)
            print(f"registered {args.artisans:,} artisans in {time.perf_counter() - started:.1f} s (setup)")

            def progress(issued: int, seconds: float) -> None:
                print(f"  {issued:>9,} cards  {seconds:6.1f} s", flush=True)

            profiler = cProfile.Profile() if args.profile else None
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            issued = issue_cards(bench, args.chunk_size, progress)
            if profiler is not None:
                profiler.disable()
            seconds = time.perf_counter() - started

            target = TARGET_SECONDS * args.artisans / NATIONAL_ARTISANS
            print()
            print(f"artisans:          {args.artisans:,}")
            print(f"cards issued:      {issued:,} (in the database: {count_cards(bench):,})")
            print(f"issuance:          {seconds:.1f} s (chunks of {args.chunk_size:,}, one commit each)")
            print(f"rate:              {issued / seconds:,.0f} cards/s")
            print(
                f"target:            <= {TARGET_SECONDS:.0f} s for {NATIONAL_ARTISANS:,} on 2 cores"
                + (f" (scaled: <= {target:.1f} s for {args.artisans:,})" if args.artisans != NATIONAL_ARTISANS else "")
            )
            print(f"result:            {'PASS' if seconds <= target else 'MISS'}")
            print(longest_token_line(bench, args.public_base_url))
            if profiler is not None:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
                print(out.getvalue())
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
                print(out.getvalue())
        finally:
            bench.engine.dispose()


if __name__ == "__main__":
    main()

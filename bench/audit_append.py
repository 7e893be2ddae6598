"""Benchmark: how many audited transactions a second commit through the chain head's lock.

What it measures: writers (threads, each its own session and connection, as gunicorn workers
would be) each committing transactions of one audit event (record_event, chained at commit under
the one-row head lock: docs/audit-trail.md), for a few seconds; the commits per second with 1 and
with N writers, and for comparison the same transactions writing a plain row instead (no chain),
so that the cost of serialising the commit shows. Ends with `audit verify` of what was written.

Run (from the project root):
  .venv/bin/python bench/audit_append.py                   # a temporary SQLite file
  .venv/bin/python bench/audit_append.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB --drop-existing
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import update

from bench._setup import prepare_database, workspace
from webapp.models import RegisterState
from webapp.services.audit import Actor, record_event
from webapp.services.audit.checkpoints import checkpoint_keys
from webapp.services.audit.verify import verify_trail
from webapp.services.upserts import insert_if_absent

ACTOR = Actor("system:bench")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a database to use instead of a temporary SQLite file")
    parser.add_argument("--drop-existing", action="store_true", help="drop the tables of --database-url first")
    parser.add_argument("--writers", type=int, default=8, help="concurrent writers of the second round")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each round")
    return parser.parse_args()


def audited(session, index: int) -> None:
    record_event(session, ACTOR, "bench.append", reason=f"transaction {index}", after={"n": index})


def plain(session, index: int) -> None:
    # A write of the same size on a row of its own per writer: no shared lock.
    session.execute(update(RegisterState).where(RegisterState.id == 1000 + index % 1000).values(artisans_version=index))


def round_(bench, writers: int, seconds: float, work) -> float:
    stop = time.perf_counter() + seconds
    counts = [0] * writers

    def writer(slot: int) -> None:
        while time.perf_counter() < stop:
            with bench.database.session_scope() as session:
                work(session, slot * 1_000_000 + counts[slot] if work is audited else slot)
            counts[slot] += 1

    threads = [threading.Thread(target=writer, args=(slot,)) for slot in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> None:
    args = parse_args()
    with workspace() as directory:
        bench = prepare_database(directory, args.database_url, drop_existing=args.drop_existing)
        with bench.database.session_scope() as session:
            for slot in range(args.writers):
                insert_if_absent(session, RegisterState, {"id": 1000 + slot, "artisans_version": 0}, ["id"])
        print(f"database: {bench.url.split('@')[-1]}")
        for writers in (1, args.writers):
            chained = round_(bench, writers, args.seconds, audited)
            unchained = round_(bench, writers, args.seconds, plain)
            print(
                f"{writers} writer(s): {chained:,.0f} audited commits/s (chained), "
                f"{unchained:,.0f} plain commits/s (no shared lock)"
            )
        with bench.database.session_scope() as session:
            keys = checkpoint_keys(session, str(bench.keys_dir))
        with bench.engine.connect() as connection:
            report = verify_trail(connection, keys)
        print(f"audit verify: {'intact' if report.intact else report.problem}, {report.events:,} events")
        bench.database.engine.dispose()


if __name__ == "__main__":
    main()

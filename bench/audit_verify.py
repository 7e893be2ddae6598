"""Benchmark: `flask --app wsgi audit verify` over 1,000,000 audit events (target: under 60 s).

What it measures: the wall-clock time of the real command, run as operators run it (a separate
process, the app's settings from the environment), recomputing the whole hash chain and checking
every signed checkpoint (docs/audit-trail.md).

Set-up (timed and printed, not counted), in a temporary directory:
  a fresh SQLite database (or --database-url), migrated, the reference data, one ES256 key;
  1,000 artisans with their cards (the roll-out service), then events up to --events, shaped as
  the trail's (card issued, suspended, reinstated, redemptions, sign-ins: actor labels, ids, JSON
  before/after, some Arabic and French reasons), chained with webapp.services.audit.chain.chain_rows
  and written with webapp.services.bulk.bulk_insert, 50,000 a transaction; a checkpoint signed
  every 100,000 events with the checkpoint service.

Run (from the project root):
  .venv/bin/python bench/audit_verify.py                    # 1,000,000 events, SQLite
  .venv/bin/python bench/audit_verify.py --events 100000    # quicker
  .venv/bin/python bench/audit_verify.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB --drop-existing
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from bench._setup import issue_cards, prepare_database, register_artisans, workspace
from webapp.models import AuditEvent, Card
from webapp.services.audit.chain import chain_rows
from webapp.services.audit.checkpoints import checkpoint_keys, sign_checkpoint
from webapp.services.bulk import bulk_insert

TARGET_SECONDS = 60.0  # for 1,000,000 events on 2 cores
BATCH = 50_000
CHECKPOINT_EVERY = 100_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the trail")
    parser.add_argument("--database-url", help="a database to use instead of a temporary SQLite file")
    parser.add_argument("--drop-existing", action="store_true", help="drop the tables of --database-url first")
    parser.add_argument("--profile", action="store_true", help="also run the check in-process under cProfile")
    return parser.parse_args()


def profile(bench) -> None:
    """The check in this process under cProfile: the top functions by own time."""
    import cProfile
    import pstats

    from webapp.services.audit.verify import verify_trail

    with bench.database.session_scope() as session:
        keys = checkpoint_keys(session, str(bench.keys_dir))
    profiler = cProfile.Profile()
    with bench.engine.connect() as connection:
        profiler.enable()
        report = verify_trail(connection, keys)
        profiler.disable()
    print(f"in-process: intact={report.intact}, {report.events:,} events")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def event_rows(cards: list[tuple[int, int, str]], start: int, stop: int, base: datetime) -> list[dict]:
    """Plain dicts shaped like the trail's events (what record_event and the roll-out write)."""
    rows = []
    for index in range(start, stop):
        card_id, artisan_id, number = cards[index % len(cards)]
        row = {
            "occurred_at": base + timedelta(seconds=index),
            "actor": f"user:{index % 97 + 1}",
            "actor_user_id": None,
            "action": "card.issue",
            "card_id": card_id,
            "artisan_id": artisan_id,
            "signing_key_id": None,
            "organisation_id": None,
            "offer_id": None,
            "account_id": None,
            "reason": None,
            "before": None,
            "after": None,
        }
        kind = index % 10
        if kind < 5:
            row["action"] = "redemption.record"
            row["after"] = {"card": number, "made_offline": kind == 0, "quota_used": kind, "card_status_now": "active"}
        elif kind < 7:
            row["action"] = "card.suspend"
            row["reason"] = "enquête en cours — تحقيق جار"
            row["before"] = {"number": number, "status": "active"}
            row["after"] = {"number": number, "status": "suspended", "status_reason": row["reason"]}
        elif kind < 9:
            row["action"] = "card.reinstate"
            row["before"] = {"number": number, "status": "suspended"}
            row["after"] = {"number": number, "status": "active", "expires_at": "2031-12-07T09:15:30+00:00"}
        else:
            row["action"] = "account.sign_in"
            row["card_id"] = row["artisan_id"] = None
            row["reason"] = "203.0.113.7"
        rows.append(row)
    return rows


def fill(bench, events: int) -> None:
    with bench.database.session_scope() as session:
        cards = session.execute(select(Card.id, Card.artisan_id, Card.number).order_by(Card.id)).all()
        already = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    base = datetime(2026, 1, 1, tzinfo=UTC)
    keys = None
    for start in range(already, events, BATCH):
        stop = min(start + BATCH, events)
        with bench.database.session_scope() as session:
            rows = event_rows([tuple(c) for c in cards], start, stop, base)
            chain_rows(session, rows)
            bulk_insert(session, AuditEvent.__table__, rows)
        if stop // CHECKPOINT_EVERY > start // CHECKPOINT_EVERY or stop == events:
            with bench.database.session_scope() as session:
                keys = keys or checkpoint_keys(session, str(bench.keys_dir))
                sign_checkpoint(session, bench.signer, keys, issuer="https://bench.invalid/audit")
        print(f"  {stop:>9,} events", end="\r", flush=True)
    print()


def main() -> None:
    args = parse_args()
    with workspace() as directory:
        started = time.perf_counter()
        bench = prepare_database(directory, args.database_url, drop_existing=args.drop_existing)
        register_artisans(bench, 1_000)
        issue_cards(bench, chunk_size=1_000)
        fill(bench, args.events)
        print(f"set-up: {time.perf_counter() - started:.1f} s ({args.events:,} events, a checkpoint every 100,000)")
        environment = {
            **os.environ,
            "DATABASE_URL": bench.url,
            "KEYS_DIR": str(bench.keys_dir),
            "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
            "CARTE_ENV": "development",
        }
        command = [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "audit", "verify"]
        started = time.perf_counter()
        done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        print(done.stdout.strip() or done.stderr.strip())
        if done.returncode != 0:
            raise SystemExit(f"audit verify exited {done.returncode}")
        target = TARGET_SECONDS * args.events / 1_000_000
        print(f"audit verify: {seconds:.1f} s for {args.events:,} events ({args.events / seconds:,.0f} events/s); ")
        print(f"target {target:.0f} s: {'met' if seconds <= target else 'NOT met'}")
        if args.profile:
            profile(bench)
        bench.database.engine.dispose()


if __name__ == "__main__":
    main()

"""Benchmark: a print batch of 10,000 cards (cards PDF + letters PDF + manifest) rendered by TWO real
job workers (issue 16, "Benchmarks"). Target: >= 150 cards/s on this machine (2 cores).

What it measures: the wall-clock time from the batch's job being put on the queue until the job is
done, its three files written: the parts (PRINT_BATCH_PART_SIZE cards each) rendered in parallel by
two `flask --app wsgi jobs worker` processes (fpdf2 card faces with their QR codes, the letters
with a fresh activation code each, stored hashed and audited per card), then one worker's finish
joining the parts with pypdf and writing the manifest.

Set-up (timed and printed, not counted), all in a temporary directory: a SQLite database migrated
with Alembic, the reference data, one signing key (bench/_setup.py), N artisans registered in bulk
(a third with a postal address), cards issued with the roll-out service; a private SqliteHuey
queue file; the two workers started with the same settings through the environment, stopped by
their own PIDs at the end.

Run (from the project root):
  .venv/bin/python bench/print_batch.py                    # 10,000 cards, 2 workers
  .venv/bin/python bench/print_batch.py --cards 2000 --workers 1 --part-size 250
  .venv/bin/python bench/print_batch.py --keep DIR          # copy the three files to DIR
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, update

from bench._setup import BENCH_ACTOR, issue_cards, prepare_database, register_artisans, workspace
from webapp.models import Artisan

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TARGET_RATE = 150.0  # cards per second, two workers on 2 cores


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=10_000, help="cards in the batch")
    parser.add_argument("--workers", type=int, default=2, help="job worker processes")
    parser.add_argument("--part-size", type=int, default=250, help="PRINT_BATCH_PART_SIZE")
    parser.add_argument("--keep", type=Path, help="copy the batch's three files into this folder")
    args = parser.parse_args()
    if args.cards < 1 or args.workers < 1 or args.part_size < 1:
        parser.error("--cards, --workers and --part-size must be positive")
    return args


def settings_for(directory: Path, database_url: str, keys_dir: Path, part_size: int) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "KEYS_DIR": str(keys_dir),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_BASE_URL": "https://carte-artisan.ma",
        "JOB_QUEUE_URL": f"sqlite:///{directory / 'jobs.sqlite3'}",
        "JOB_QUEUE_NAME": "bench",
        "JOB_FILES_DIR": str(directory / "files"),
        "PRINT_BATCH_PART_SIZE": str(part_size),
        "SQLITE_BUSY_TIMEOUT_SECONDS": "30",
    }


def start_workers(count: int, settings: dict[str, str], directory: Path) -> list[subprocess.Popen[bytes]]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("CARTE_", "FLASK_", "JOB_"))}
    environment |= settings | {"PYTHONUNBUFFERED": "1"}
    workers = []
    for index in range(count):
        log = (directory / f"worker-{index}.log").open("wb")
        workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"],
                cwd=PROJECT_ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return workers


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def main() -> None:
    args = parse_args()
    with workspace() as directory:
        started = time.perf_counter()
        bench = prepare_database(directory)
        register_artisans(bench, args.cards)
        with bench.database.session_scope() as session:
            # A third of the artisans have a postal address; the others collect at the chamber.
            session.execute(
                update(Artisan)
                .where(Artisan.id % 3 == 0)
                .values(address_line="12 Derb Sidi Ahmed", postal_code="30110", city="Fès")
            )
        issue_cards(bench, 20_000)
        bench.engine.dispose()
        print(f"set-up: {args.cards:,} artisans and cards in {time.perf_counter() - started:.1f} s", flush=True)

        settings = settings_for(directory, bench.url, bench.keys_dir, args.part_size)
        os.environ.update(settings)  # the app below (which submits) reads the same settings
        from webapp import create_app
        from webapp.models import Job, JobState, PrintBatch
        from webapp.services.jobs.jobs import progress_of
        from webapp.services.printing import batches
        from webapp.services.scope import NATIONAL

        app = create_app()
        database = app.extensions["database"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)  # the set-up's process pool is reaped
        workers = start_workers(args.workers, settings, directory)
        try:
            time.sleep(2)  # the workers' start-up (imports, app) is not the batch's time
            with app.app_context():
                with database.session_scope() as session:
                    request = batches.BatchRequest(batches.SelectionKind.NEW)
                    batch, plan = batches.prepare_batch(session, request, NATIONAL, BENCH_ACTOR)
                    batch_id = batch.id
                    print(f"batch {batch_id}: {plan.count:,} cards prepared", flush=True)
                    started = time.perf_counter()
                    job_id = batches.start_rendering(session, batch, BENCH_ACTOR).id
                last = -1
                while True:
                    with database.session_scope() as session:
                        job = session.get(Job, job_id)
                        progress = progress_of(session, job)
                        state, finished = job.state, job.is_finished
                    if progress.done != last:
                        seconds = time.perf_counter() - started
                        print(f"  {progress.done:>7,} / {progress.total or 0:,} cards  {seconds:6.1f} s", flush=True)
                        last = progress.done
                    if finished:
                        break
                    time.sleep(1)
                seconds = time.perf_counter() - started
                with database.session_scope() as session:
                    batch = session.get(PrintBatch, batch_id)
                    job = session.get(Job, job_id)
                    files = (batch.cards_file, batch.letters_file, batch.manifest_file)
                    parts = session.scalars(select(Job).where(Job.parent_id == job_id).order_by(Job.part_index)).all()
                    origin = job.created_at
                    timeline = [
                        f"part {part.part_index}: {(part.started_at - origin).total_seconds():5.1f}"
                        f" -> {(part.finished_at - origin).total_seconds():5.1f} s"
                        for part in parts
                        if part.started_at and part.finished_at
                    ]
                    last_part = max((part.finished_at for part in parts if part.finished_at), default=origin)
                    finish_seconds = (job.finished_at - last_part).total_seconds() if job.finished_at else 0.0
                    figures = (batch.card_count, batch.card_pages, batch.letter_pages, job.parts_total, job.error)
                storage = app.extensions["jobs"].storage
                sizes = [storage.size(key) / 1e6 if key else 0 for key in files]
                if args.keep and all(files):
                    args.keep.mkdir(parents=True, exist_ok=True)
                    for key in files:
                        shutil.copyfile(storage.local_path(key), args.keep / key.rsplit("/", 1)[-1])
        finally:
            stop_workers(workers)
        # The workers' own CPU time (reaped children), start-up and idle polling included: on a shared
        # machine the wall clock also counts other processes' time.
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        workers_cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
        cards, card_pages, letter_pages, parts, error = figures
        rate = cards / seconds if seconds else 0.0
        print()
        print(f"job:               {state.value}" + (f" ({error})" if error else ""))
        print(f"cards:             {cards:,} in {parts} parts of {args.part_size}, {args.workers} workers")
        print(f"pages:             {card_pages:,} card pages, {letter_pages:,} letters")
        print(f"files:             cards {sizes[0]:.1f} MB, letters {sizes[1]:.1f} MB, manifest {sizes[2]:.2f} MB")
        print(
            f"time:              {seconds:.1f} s (queued to done), of which the finish (join, manifest) "
            f"{finish_seconds:.1f} s"
        )
        print(f"rate:              {rate:,.1f} cards/s")
        print(
            f"workers' CPU:      {workers_cpu:.1f} s = {cards / workers_cpu:,.1f} cards per CPU-second; "
            f"on {args.workers} idle cores at best {args.workers * cards / workers_cpu:,.1f} cards/s"
        )
        print(f"target:            >= {TARGET_RATE:.0f} cards/s with 2 workers on 2 cores")
        print(f"result:            {'PASS' if state == JobState.DONE and rate >= TARGET_RATE else 'MISS'}")
        print("parts (since the job was queued): " + "; ".join(timeline))
        for index in range(args.workers):
            log = (directory / f"worker-{index}.log").read_text(errors="replace")
            if "Traceback" in log:
                print(f"--- worker {index} log (last lines) ---\n" + "\n".join(log.splitlines()[-30:]))


if __name__ == "__main__":
    main()

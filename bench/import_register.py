"""Benchmark: import the national register (622,000 artisans) from CSV and from XLSX.

What it measures: webapp.services.register.imports.import_register, what `flask --app wsgi register
import FILE` and the back office run, on a fresh database: every row read, checked by the register's
field rules, matched (one look-up query per batch) and written (bulk inserts). Targets (issue 9):
CSV <= 90 s for 622,000 rows, and peak memory < 500 MB. Each import runs in a child process (a
fresh interpreter), so its peak memory (getrusage ru_maxrss) is the import's own.

Set-up (timed and printed, not counted), in a temporary directory: N plausible rows (names,
provinces and cooperatives from webapp/services/demo.py through bench/_setup.artisan_rows, 12
regions round-robin, some support programmes) written as CSV (UTF-8 with BOM, as Excel saves
"CSV UTF-8") and as XLSX (openpyxl write-only); per import, a fresh SQLite database migrated with
the Alembic migrations (or the --postgres database, emptied first).

Then, on the CSV's database: a re-import of the same file (every row found unchanged) and an export
of the whole register to CSV (services/register/exports.py), with their times.

--via-worker: the back office's way instead (issue 16): the CSV uploaded to the job storage, an
import run submitted as a job (kind register_import) on a SQLite queue file, and a real job worker
(`flask --app wsgi jobs worker`, its own process) running it. Printed: the import's time on the
worker (the job's started_at to finished_at), the time from submission until the run says
"imported" (the worker's start-up and the queue's pick-up included), the worker's CPU time and
peak memory (/proc). Same target: <= 90 s for 622,000 rows.

Run (from the project root):
  .venv/bin/python bench/import_register.py                 # 622,000 rows, CSV and XLSX, SQLite
  .venv/bin/python bench/import_register.py --rows 50000    # quicker; the time target is scaled
  .venv/bin/python bench/import_register.py --formats csv   # CSV only
  .venv/bin/python bench/import_register.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench
  .venv/bin/python bench/import_register.py --formats csv --via-worker   # through a real job worker
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import BENCH_ACTOR, NATIONAL_ARTISANS, BenchDatabase, artisan_rows, prepare_database, workspace
from webapp.services.register.artisan_fields import FIELDS
from webapp.services.register.exports import _cell as stored_cell
from webapp.services.register.imports import ImportMode, ImportRequest, import_register
from webapp.services.scope import NATIONAL
from webapp.services.spreadsheets import BOM

TARGET_SECONDS = 90.0  # CSV, for NATIONAL_ARTISANS on 2 cores
TARGET_PEAK_MB = 500.0
PROGRAMMES = ("", "", "", "", "WOMEN", "EXCELLENCE", "EXPORT;WOMEN", "AGGREGATION")
GENERATE_CHUNK = 20_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=NATIONAL_ARTISANS, help="rows to generate and import")
    parser.add_argument("--formats", default="csv,xlsx", help="comma-separated: csv, xlsx")
    parser.add_argument(
        "--xlsx-rows", type=int, help="rows of the XLSX file (default: --rows; openpyxl reads ~4,000 rows/s)"
    )
    parser.add_argument("--postgres", metavar="URL", help="import into this PostgreSQL database too (emptied first)")
    parser.add_argument("--batch-size", type=int, default=2_000, help="rows per batch of the import")
    parser.add_argument(
        "--via-worker", action="store_true", help="import the CSV as the back office does: a job on a real worker"
    )
    parser.add_argument("--child", nargs=4, metavar=("FILE", "DB_URL", "WORKDIR", "STEPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rows < 1:
        parser.error("--rows must be positive")
    args.formats = [name.strip() for name in args.formats.split(",") if name.strip()]
    if not set(args.formats) <= {"csv", "xlsx"}:
        parser.error("--formats takes csv and/or xlsx")
    if args.via_worker and args.formats != ["csv"]:
        parser.error("--via-worker imports the CSV file: add --formats csv")
    return args


def generated_rows(count: int):
    """Rows of the import template, as a spreadsheet holds them (text in the stored forms)."""
    rng = random.Random(50_17)
    now = datetime.now(UTC)
    for start in range(0, count, GENERATE_CHUNK):
        for row in artisan_rows(rng, start, min(start + GENERATE_CHUNK, count), count - 1, now):
            row["programmes"] = rng.choice(PROGRAMMES)
            yield [stored_cell(row[name]) for name in FIELDS]


def write_files(directory: Path, count: int, formats: list[str], xlsx_count: int | None = None) -> dict[str, Path]:
    files = {}
    if "csv" in formats:
        started = time.perf_counter()
        path = directory / "register.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write(BOM)
            writer = csv.writer(handle)
            writer.writerow(FIELDS)
            writer.writerows(generated_rows(count))
        print(f"generated {path.name}: {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s")
        files["csv"] = path
    if "xlsx" in formats:
        from openpyxl import Workbook

        started = time.perf_counter()
        path = directory / "register.xlsx"
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("register")
        sheet.append(list(FIELDS))
        for row in generated_rows(xlsx_count or count):
            sheet.append(row)
        workbook.save(path)
        print(f"generated {path.name}: {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s")
        files["xlsx"] = path
    return files


def child(file: Path, database_url: str, workdir: Path, steps: str, batch_size: int) -> None:
    """In a fresh process: migrate the database, import the file, and print figures as JSON."""
    figures: dict[str, float | int | str] = {}
    started = time.perf_counter()
    bench = prepare_database(workdir, None if database_url == "sqlite" else database_url, drop_existing=True)
    figures["setup_seconds"] = time.perf_counter() - started
    if "worker" in steps:
        figures |= import_via_worker(bench, file, workdir)
        bench.engine.dispose()
        print(json.dumps(figures))
        return
    session_scope = bench.database.session_scope

    def run(mode: ImportMode) -> tuple[float, object]:
        request = ImportRequest(file, file.name, BENCH_ACTOR, NATIONAL, mode, max_bytes=2**40, batch_size=batch_size)
        began = time.perf_counter()
        report = import_register(session_scope, request)
        return time.perf_counter() - began, report

    cpu_before, waited_before = _cpu_seconds(), _waited_for_cpu()
    seconds, report = run(ImportMode.IMPORT)
    figures |= {
        "seconds": seconds,
        "cpu_seconds": _cpu_seconds() - cpu_before,
        "waited_seconds": _waited_for_cpu() - waited_before,
        "rows": report.rows,
        "created": report.created,
        "refused": report.refused,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if "reimport" in steps:
        seconds, report = run(ImportMode.IMPORT)
        figures |= {"reimport_seconds": seconds, "reimport_unchanged": report.unchanged}
    if "export" in steps:
        from webapp.services.register.artisans import ArtisanQuery, artisan_ids
        from webapp.services.register.exports import write_export

        began = time.perf_counter()
        with session_scope() as session:
            exported = write_export(session, artisan_ids(NATIONAL, ArtisanQuery()), workdir / "export.csv")
        figures |= {"export_seconds": time.perf_counter() - began, "exported": exported}
    figures["peak_mb_end"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bench.engine.dispose()
    print(json.dumps(figures))


def import_via_worker(bench: BenchDatabase, file: Path, workdir: Path) -> dict[str, float | int | str]:
    """The import as the back office runs it: the file in the job storage, a run submitted as a job,
    a real worker process running it. Figures from the job row and the worker's /proc."""
    from webapp import create_app
    from webapp.models import ImportFileKind, ImportRun, ImportStatus, Job, Role
    from webapp.services.accounts.staff import create_staff_account
    from webapp.services.register import import_runs

    settings = {
        "DATABASE_URL": bench.url,
        "KEYS_DIR": str(bench.keys_dir),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JOB_QUEUE_URL": f"sqlite:///{workdir / 'jobs.sqlite3'}",
        "JOB_FILES_DIR": str(workdir / "files"),
        "REGISTER_IMPORT_MAX_BYTES": 2**40,
    }
    app = create_app(settings)
    database, queue = app.extensions["database"], app.extensions["jobs"]
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("CARTE_", "JOB_"))}
    environment |= {name: str(value) for name, value in settings.items()} | {"PYTHONUNBUFFERED": "1"}
    log = (workdir / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"],
        cwd=Path(__file__).resolve().parent.parent,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        stored = import_runs.stored_name_for(ImportFileKind.CSV)
        size = file.stat().st_size
        queue.storage.put_file(import_runs.upload_key(stored), file)
        with app.app_context(), database.session_scope() as session:
            admin = create_staff_account(
                session,
                email="bench@carte.test",
                display_name="Bench",
                role=Role.ADMIN,
                region_code=None,
                actor=BENCH_ACTOR,
            ).user
            run = import_runs.start_run(
                session, admin, NATIONAL, file_name=file.name, stored_name=stored, kind=ImportFileKind.CSV, size=size
            )
            run.status = ImportStatus.IMPORTING  # checked already: the import itself
            run_id = run.id
            import_runs.submit_work(session, run, BENCH_ACTOR)
        submitted = time.perf_counter()
        peak_kb, cpu = 0, 0.0
        waits: dict[str, tuple[int, int]] = {}
        # The worker's CPU time and its threads' waits when the job was first seen started.
        at_start: tuple[float, dict[str, tuple[int, int]]] | None = None
        while True:
            with database.session_scope() as session:
                found = session.get(ImportRun, run_id)
                if at_start is None and session.get(Job, found.job_id).started_at is not None:
                    at_start = (_proc_cpu_seconds(worker.pid), _proc_thread_waits(worker.pid))
                if found.status not in import_runs.IN_PROGRESS:
                    job = session.get(Job, found.job_id)
                    outcome = {
                        "status": found.status.value,
                        "rows": found.rows,
                        "created": found.created,
                        "refused": found.refused,
                        "seconds": (job.finished_at - job.started_at).total_seconds(),
                        "wall_seconds": time.perf_counter() - submitted,
                    }
                    break
            peak_kb, cpu = max(peak_kb, _proc_peak_kb(worker.pid)), _proc_cpu_seconds(worker.pid) or cpu
            waits = _proc_thread_waits(worker.pid) or waits
            time.sleep(0.2)
        peak_kb, cpu = max(peak_kb, _proc_peak_kb(worker.pid)), _proc_cpu_seconds(worker.pid) or cpu
        waits = _proc_thread_waits(worker.pid) or waits
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
        database.engine.dispose()
    # From the first look that saw the job started (every 0.2 s): the worker's start-up left out.
    cpu_start, waits_start = at_start or (0.0, {})
    return outcome | {
        "cpu_seconds": cpu - cpu_start,
        "waited_seconds": _job_thread_wait(waits_start, waits),
        "peak_mb": peak_kb / 1024,
    }


def _proc_peak_kb(pid: int) -> int:
    """A process's peak resident memory (VmHWM, kB); 0 when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _proc_thread_waits(pid: int) -> dict[str, tuple[int, int]]:
    """Each thread's time on a core and time waiting for one (ns, Linux schedstat); {} if unreadable."""
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        stats = {task.name: (task / "schedstat").read_text().split() for task in tasks}
        return {name: (int(values[0]), int(values[1])) for name, values in stats.items()}
    except (OSError, IndexError, ValueError):
        return {}


def _job_thread_wait(start: dict[str, tuple[int, int]], end: dict[str, tuple[int, int]]) -> float:
    """Seconds the thread that ran the job (the one that used the most CPU in between: the worker
    runs jobs in a thread beside its scheduler's) waited for a core."""
    if not end:
        return 0.0
    used = {name: on_cpu - start.get(name, (0, 0))[0] for name, (on_cpu, _waited) in end.items()}
    busiest = max(used, key=lambda name: used[name])
    return (end[busiest][1] - start.get(busiest, (0, 0))[1]) / 1e9


def _proc_cpu_seconds(pid: int) -> float:
    """A process's CPU time (user and system) from /proc; 0 when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _cpu_seconds() -> float:
    """This process's CPU time (user and system): on a shared machine, the wall clock also counts
    the time other work held the cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _waited_for_cpu() -> float:
    """Seconds this process was ready to run but waited for a core (Linux schedstat; 0 elsewhere)."""
    try:
        return int(Path("/proc/self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def run_child(file: Path, database_url: str, workdir: Path, steps: str, batch_size: int) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, __file__, "--batch-size", str(batch_size), "--child", str(file), database_url]
    command += [str(workdir), steps]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stdout, done.stderr, file=sys.stderr)
        raise SystemExit(f"the import of {file.name} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(label: str, figures: dict, rows: int, target: float | None) -> None:
    seconds, peak = figures["seconds"], figures["peak_mb"]
    print(f"\n{label}")
    if "wall_seconds" in figures:
        print(f"  run:             {figures['status']} (job kind register_import on a job worker process)")
        print(f"  submitted -> imported: {figures['wall_seconds']:.1f} s (worker start-up and queue pick-up included)")
    print(f"  rows imported:   {figures['created']:,} of {figures['rows']:,} ({figures['refused']} refused)")
    print(f"  import:          {seconds:.1f} s, {rows / seconds:,.0f} rows/s (setup {figures['setup_seconds']:.1f} s)")
    cpu, waited = figures["cpu_seconds"], figures["waited_seconds"]
    print(f"  CPU time:        {cpu:.1f} s; {waited:.1f} s more waiting for a core (load average now {_load()})")
    where = "the worker process, VmHWM" if "wall_seconds" in figures else "child process, ru_maxrss"
    print(f"  peak memory:     {peak:.0f} MB ({where})")
    if target is not None:
        print(f"  time target:     <= {target:.1f} s -> {'PASS' if seconds <= target else 'MISS'} (wall clock)")
        # On a shared machine the wall clock counts the time other work held the cores: the import's
        # own need is its CPU time plus its waits for the disk (wall clock minus the wait for a core).
        own = seconds - waited
        print(f"  without the wait for a core: {own:.1f} s -> {'PASS' if own <= target else 'MISS'}")
    print(f"  memory target:   < {TARGET_PEAK_MB:.0f} MB -> {'PASS' if peak < TARGET_PEAK_MB else 'MISS'}")
    if "reimport_seconds" in figures:
        print(
            f"  re-import:       {figures['reimport_seconds']:.1f} s, "
            f"{figures['reimport_unchanged']:,} unchanged ({rows / figures['reimport_seconds']:,.0f} rows/s)"
        )
    if "export_seconds" in figures:
        print(
            f"  export to CSV:   {figures['export_seconds']:.1f} s for {figures['exported']:,} artisans "
            f"({figures['exported'] / figures['export_seconds']:,.0f} rows/s); "
            f"peak after all steps {figures['peak_mb_end']:.0f} MB"
        )


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    args = parse_args()
    if args.child:
        file, database_url, workdir, steps = args.child
        child(Path(file), database_url, Path(workdir), steps, args.batch_size)
        return
    target = TARGET_SECONDS * args.rows / NATIONAL_ARTISANS
    with workspace() as directory:
        files = write_files(directory, args.rows, args.formats, args.xlsx_rows)
        databases = [("SQLite", "sqlite")] + ([("PostgreSQL", args.postgres)] if args.postgres else [])
        for name, url in databases:
            for kind, path in files.items():
                steps = "reimport,export" if kind == "csv" else "-"
                if args.via_worker:
                    steps = "worker"
                figures = run_child(path, url, directory / f"{kind}-{name}", steps, args.batch_size)
                rows = args.rows if kind == "csv" else (args.xlsx_rows or args.rows)
                label = f"{kind.upper()} -> {name}" + (" through a job worker" if args.via_worker else "")
                report(label, figures, rows, target if kind == "csv" else None)
    print(
        f"\ntargets: CSV <= {TARGET_SECONDS:.0f} s for {NATIONAL_ARTISANS:,} rows"
        + (f" (scaled: <= {target:.1f} s for {args.rows:,})" if args.rows != NATIONAL_ARTISANS else "")
        + f", peak memory < {TARGET_PEAK_MB:.0f} MB"
    )


if __name__ == "__main__":
    main()

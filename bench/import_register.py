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

Run (from the project root):
  .venv/bin/python bench/import_register.py                 # 622,000 rows, CSV and XLSX, SQLite
  .venv/bin/python bench/import_register.py --rows 50000    # quicker; the time target is scaled
  .venv/bin/python bench/import_register.py --formats csv   # CSV only
  .venv/bin/python bench/import_register.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import BENCH_ACTOR, NATIONAL_ARTISANS, artisan_rows, prepare_database, workspace
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
    parser.add_argument("--child", nargs=4, metavar=("FILE", "DB_URL", "WORKDIR", "STEPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rows < 1:
        parser.error("--rows must be positive")
    args.formats = [name.strip() for name in args.formats.split(",") if name.strip()]
    if not set(args.formats) <= {"csv", "xlsx"}:
        parser.error("--formats takes csv and/or xlsx")
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
    print(f"  rows imported:   {figures['created']:,} of {figures['rows']:,} ({figures['refused']} refused)")
    print(f"  import:          {seconds:.1f} s, {rows / seconds:,.0f} rows/s (setup {figures['setup_seconds']:.1f} s)")
    cpu, waited = figures["cpu_seconds"], figures["waited_seconds"]
    print(f"  CPU time:        {cpu:.1f} s; {waited:.1f} s more waiting for a core (load average now {_load()})")
    print(f"  peak memory:     {peak:.0f} MB (child process, ru_maxrss)")
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
                figures = run_child(path, url, directory / f"{kind}-{name}", steps, args.batch_size)
                rows = args.rows if kind == "csv" else (args.xlsx_rows or args.rows)
                report(f"{kind.upper()} -> {name}", figures, rows, target if kind == "csv" else None)
    print(
        f"\ntargets: CSV <= {TARGET_SECONDS:.0f} s for {NATIONAL_ARTISANS:,} rows"
        + (f" (scaled: <= {target:.1f} s for {args.rows:,})" if args.rows != NATIONAL_ARTISANS else "")
        + f", peak memory < {TARGET_PEAK_MB:.0f} MB"
    )


if __name__ == "__main__":
    main()

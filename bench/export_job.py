"""Benchmark: the register export as a job (issue 16), CSV and XLSX, up to the national register.

What it measures: the `register_export` job kind (webapp/services/jobs/exports.py), submitted as
the back office submits it and run through the job system (immediate mode: the job runs when the
submitting transaction commits, in this process, exactly the code a worker runs), writing the file
through the job storage. Each format runs in a child process (a fresh interpreter), so its peak
memory (getrusage ru_maxrss) is the export's own: it must stay flat whatever the row count
(openpyxl's write-only mode, pages of 2,000 ids). No target is given by the issue beyond "any
size works"; the old web caps were 200,000 rows (CSV) and 20,000 (XLSX).

Set-up (timed and printed, not counted): a temporary SQLite database migrated with Alembic and N
artisans registered in bulk (bench/_setup.py), or the --postgres database (emptied first).

Run (from the project root):
  .venv/bin/python bench/export_job.py                       # 622,000 artisans, CSV and XLSX
  .venv/bin/python bench/export_job.py --rows 100000 --formats xlsx
  .venv/bin/python bench/export_job.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import json
import resource
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import NATIONAL_ARTISANS, prepare_database, register_artisans, workspace


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=NATIONAL_ARTISANS, help="artisans to register and export")
    parser.add_argument("--formats", default="csv,xlsx", help="comma-separated: csv, xlsx")
    parser.add_argument("--postgres", metavar="URL", help="use this PostgreSQL database (emptied first)")
    parser.add_argument("--child", nargs=4, metavar=("FORMAT", "DB_URL", "WORKDIR", "KEYS_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.formats = [name.strip() for name in args.formats.split(",") if name.strip()]
    if not set(args.formats) <= {"csv", "xlsx"}:
        parser.error("--formats takes csv and/or xlsx")
    return args


def child(extension: str, database_url: str, workdir: str, keys_dir: str) -> None:
    """Submit one export job and let it run (immediate mode); print its figures as JSON."""
    from webapp import create_app
    from webapp.models import Job
    from webapp.services.audit import Actor
    from webapp.services.jobs import exports as export_jobs
    from webapp.services.jobs.jobs import submit_job

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "KEYS_DIR": keys_dir,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "JOB_QUEUE_URL": "immediate",
            "JOB_FILES_DIR": str(Path(workdir) / "files"),
        }
    )
    database = app.extensions["database"]
    started = time.perf_counter()
    with app.app_context(), database.session_scope() as session:
        job_id = submit_job(
            session,
            export_jobs.NAME,
            actor=Actor("system:bench"),
            region_code=None,
            params=export_jobs.export_params(extension, {}),
        ).id
    seconds = time.perf_counter() - started
    with database.session_scope() as session:
        job = session.get(Job, job_id)
        storage = app.extensions["jobs"].storage
        size = storage.size(job.result_file) if job.result_file else 0
        figures = {
            "state": job.state.value,
            "rows": job.done,
            "seconds": round(seconds, 1),
            "size_mb": round(size / 1e6, 1),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "error": job.error,
        }
    print(json.dumps(figures))


def main() -> None:
    args = parse_args()
    if args.child:
        child(*args.child)
        return
    with workspace() as directory:
        started = time.perf_counter()
        bench = prepare_database(directory, args.postgres, drop_existing=bool(args.postgres))
        register_artisans(bench, args.rows)
        bench.engine.dispose()
        print(f"set-up: {args.rows:,} artisans registered in {time.perf_counter() - started:.1f} s", flush=True)
        for extension in args.formats:
            command = [sys.executable, __file__, "--child", extension, bench.url, str(directory), str(bench.keys_dir)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            figures = json.loads(output.strip().splitlines()[-1])
            rate = figures["rows"] / figures["seconds"] if figures["seconds"] else 0
            print(
                f"{extension.upper()}: {figures['state']}, {figures['rows']:,} rows in {figures['seconds']} s "
                f"({rate:,.0f} rows/s), file {figures['size_mb']} MB, peak memory {figures['peak_mb']} MB"
                + (f", error {figures['error']}" if figures["error"] else ""),
                flush=True,
            )


if __name__ == "__main__":
    main()

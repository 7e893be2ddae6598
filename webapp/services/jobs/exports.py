"""The job kind `register_export`: the register, as a list's search and filters choose it, written
to a CSV or XLSX file of any size in the job storage, downloadable for EXPORT_RETENTION_DAYS.

A download used to be made inside the web request, so exports were capped (200,000 rows as CSV,
20,000 as XLSX) by gunicorn's 30 s; on a worker there is no cap. The rows are read a page of ids at
a time and written as they come (openpyxl's write-only mode for XLSX): memory stays flat at
622,000 rows. The file is written through `storage.writer`, which makes it visible under its key
only once whole: a cancelled or killed export leaves no half file behind.

Params: {"format": "csv" | "xlsx", "filters": {name: value}} with the list's filter names
(ArtisanQuery.from_filters); the job's region_code is the officer's region (None: national), and
the export never leaves it, whatever the filters say.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from webapp.models import Job
from webapp.services.errors import N_
from webapp.services.jobs.context import JobContext
from webapp.services.jobs.kinds import JobKind
from webapp.services.jobs.storage import Storage
from webapp.services.partners.rules import moroccan_today
from webapp.services.register.artisans import ArtisanQuery, artisan_ids
from webapp.services.register.exports import count_selected, write_export_to
from webapp.services.scope import Scope

NAME = "register_export"
FORMATS = ("csv", "xlsx")
MIME_TYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# Progress (and a cancellation point) every this many rows: a page of ids (exports.PAGE_SIZE).
PROGRESS_EVERY = 2_000


def export_params(extension: str, filters: dict[str, str]) -> dict[str, Any]:
    """What a `register_export` job needs: the format and the list's filters (never rows)."""
    return {"format": extension, "filters": dict(sorted(filters.items()))}


def export_dedupe_key(user_id: int | None, region_code: str | None, params: dict[str, Any]) -> str:
    """The same export asked twice by the same person (a double click) while the first is still
    queued or running is that one job: the key names the person, the scope and the params."""
    digest = hashlib.sha256(json.dumps([region_code, params], sort_keys=True).encode()).hexdigest()[:32]
    return f"{NAME}:{user_id or 0}:{digest}"


def file_name(extension: str, query: ArtisanQuery, scope: Scope) -> str:
    """register-<region or national>-<Moroccan date>.<extension>, as the downloads were named."""
    part = query.region_code or scope.region_code or "national"
    return f"register-{part}-{moroccan_today().isoformat()}.{extension}"


def run(ctx: JobContext) -> None:
    """Count the chosen artisans, write them page by page into the job's file, offer it for
    EXPORT_RETENTION_DAYS."""
    extension = ctx.params["format"]
    query = ArtisanQuery.from_filters(ctx.params.get("filters") or {})
    scope = ctx.scope
    name = file_name(extension, query, scope)
    key = f"jobs/{ctx.job_id}/{name}"
    with ctx.session_scope() as session:
        selection = artisan_ids(scope, query)
        total = count_selected(session, selection)
        ctx.progress(0, total)
        with ctx.storage.writer(key) as target:
            written = write_export_to(
                session,
                selection,
                target,
                xlsx=extension == "xlsx",
                progress=lambda rows: ctx.progress(rows, max(total, rows)),
                every=PROGRESS_EVERY,
            )
    ctx.progress(written, written)
    ctx.set_result(
        file=key,
        name=name,
        keep_for=timedelta(days=int(ctx.settings.EXPORT_RETENTION_DAYS)),
        summary={"rows": written, "format": extension},
    )


def on_interrupted(session: Session, job: Job, storage: Storage) -> dict[str, Any]:
    """A worker killed mid-export wrote at most a partial file (never under its key): it is
    deleted, and the rows counted until then are reported. Nothing is resumed: export again."""
    deleted = storage.delete_prefix(f"jobs/{job.id}")
    return {"rows_written": job.done, "partial_files_deleted": deleted}


KIND = JobKind(name=NAME, label=N_("Register export"), run=run, on_interrupted=on_interrupted)

"""Every kind of job, by name: what a worker runs for it. A kind lives in its own module of this
package (its `KIND`); adding one is that module and a line below."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from webapp.models import Job
    from webapp.services.jobs.context import JobContext
    from webapp.services.jobs.storage import Storage


@dataclass(frozen=True)
class JobKind:
    """A kind of job.

    `run` does the work (calling `ctx.progress` often: that is its heartbeat and where a cancel
    stops it). A kind that splits its work (`ctx.split`) has `run_part` for each part, run in
    parallel on any worker, and `finish` once every part is done. `on_interrupted` runs when the
    job's heartbeat stopped (its worker was killed): it returns what the job had written (merged
    into the job's summary and the audit event) and cleans up or keeps its files for a rerun."""

    name: str
    label: str  # N_(...): screens translate it
    run: Callable[[JobContext], None]
    run_part: Callable[[JobContext], None] | None = None
    finish: Callable[[JobContext], None] | None = None
    on_interrupted: Callable[[Session, Job, Storage], dict[str, Any]] | None = None


def _all_kinds() -> dict[str, JobKind]:
    # One line per kind module (imported here, on first use, so that importing the package does
    # no work and the kinds may import any service).
    from webapp.services.jobs import eligibility, exports, print_batches, register_import, rollout

    kinds: list[JobKind] = [register_import.KIND, exports.KIND, eligibility.KIND, *rollout.KINDS, print_batches.KIND]
    return {kind.name: kind for kind in kinds}


_KINDS: dict[str, JobKind] | None = None


def job_kinds() -> dict[str, JobKind]:
    """The kinds by name (imported on first use: no work at import time)."""
    global _KINDS
    if _KINDS is None:
        _KINDS = _all_kinds()
    return _KINDS


def kind_named(name: str) -> JobKind:
    return job_kinds()[name]

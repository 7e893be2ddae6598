"""Readiness (/readyz): can this instance serve? The database answers a `SELECT 1`, Redis answers
when it holds the rate limits, and a key that verifies cards is loaded (whether one can sign is
said too, without failing readiness: verification and the trust material already signed go on;
so is whether the job queue answers).

Each check has its own short deadline, so a hung store makes /readyz answer 503 in a couple of
seconds with the check that failed, never wait. Liveness (/healthz) touches nothing.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import text

from webapp.db import get_database
from webapp.extensions import STORE_ERRORS, capacity_limiter
from webapp.faults import RequestDeadline, can_arm, disarm_deadline, is_database_unavailable, on_alarm
from webapp.settings import current_settings

# Seconds each check may take (the database's connect timeout is 2 s by default: one more).
CHECK_SECONDS = 3


def _bounded(check: Callable[[], dict[str, Any]], seconds: float) -> dict[str, Any]:
    """Run one check under its own alarm; a failure is reported, not raised."""
    started = time.monotonic()
    armed = can_arm()
    if armed:
        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        result = check()
    except RequestDeadline:
        result = {"ok": False, "error": "timeout"}
    except Exception as error:  # a readiness probe reports every failure, whatever it is
        result = {"ok": False, "error": type(error).__name__}
        if not (is_database_unavailable(error) or isinstance(error, STORE_ERRORS)):
            current_app.logger.exception("readiness check failed")
    finally:
        if armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
    return result | {"seconds": round(time.monotonic() - started, 3)}


def _database() -> dict[str, Any]:
    with get_database().engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"ok": True}


def _redis() -> dict[str, Any]:
    # The sign-in counters' client: the same store as the limits, built even with limits off.
    ok = bool(current_app.extensions["attempt_counters"].storage.check())
    stats = capacity_limiter().stats
    return {
        "ok": ok,
        # This worker's fallback for the capacity limits (verification): counted, never silent.
        "capacity_limits_in_memory": stats.in_memory,
        "outages": stats.outages,
        "requests_counted_in_memory": stats.requests_counted_in_memory,
    }


def _keys() -> dict[str, Any]:
    keyring = current_app.extensions["keyring"].get()  # its own session, not the request's
    problem = keyring.signer_problem
    return {
        "ok": bool(keyring.verifying_keys),
        "verifying_keys": len(keyring.verifying_keys),
        "signing": keyring.signer is not None,
        **({"signing_problem": str(problem)} if problem else {}),
    }


def _job_queue() -> dict[str, Any]:
    """Whether the job queue answers, and how many jobs wait in it. Said, never failing readiness:
    an instance serves without it, and jobs submitted meanwhile wait in the job table."""
    queue = current_app.extensions["jobs"]
    try:
        waiting = queue.huey.pending_count()
    except Exception as error:  # Redis down or hung (its socket timeouts answer)
        return {"ok": True, "queue_reachable": False, "error": type(error).__name__}
    return {"ok": True, "queue_reachable": True, "waiting": waiting}


def readiness() -> tuple[bool, dict[str, Any]]:
    """(ready, what each check found)."""
    disarm_deadline()  # each check has its own, shorter deadline
    checks: dict[str, dict[str, Any]] = {"database": _bounded(_database, CHECK_SECONDS)}
    if current_settings().RATELIMIT_STORAGE_URI.startswith("redis"):
        checks["redis"] = _bounded(_redis, CHECK_SECONDS)
    checks["jobs"] = _bounded(_job_queue, CHECK_SECONDS)
    if checks["database"]["ok"]:
        checks["keys"] = _bounded(_keys, CHECK_SECONDS)
    else:
        checks["keys"] = {"ok": False, "error": "database_unavailable"}
    failed = sorted(name for name, result in checks.items() if not result["ok"])
    return not failed, {"ready": not failed, "failed": failed, "checks": checks}

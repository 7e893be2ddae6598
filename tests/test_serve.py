"""`make run`'s server (scripts/serve.py): gunicorn and a job worker start together, and Ctrl-C
stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.fixtures.jobs import wait_for
from tests.fixtures.production import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(child) for child in found]


def test_make_run_serves_with_a_worker_and_ctrl_c_stops_both(tmp_path):
    """One command starts the web server and a job worker; SIGINT ends both within seconds."""
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("CARTE_", "JOB_"))}
    environment.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'carte.sqlite3'}",
        KEYS_DIR=str(tmp_path / "keys"),
        SECRET_KEY="s" * 48,
        JOB_QUEUE_URL=f"sqlite:///{tmp_path / 'jobs.sqlite3'}",
        JOB_FILES_DIR=str(tmp_path / "files"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        GUNICORN_ACCESSLOG="",
        PYTHONUNBUFFERED="1",
    )
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=PROJECT_ROOT, env=environment, check=True, capture_output=True)
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "scripts/serve.py"], cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    try:

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    return answer.status == 200
            except OSError:
                return False

        wait_for(healthy, seconds=60, what="gunicorn's /healthz")
        wait_for(lambda: "Job worker on" in (tmp_path / "serve.log").read_text(), seconds=60, what="the worker")
        children = _children(serve.pid)
        assert len(children) == 2  # gunicorn's master and the worker
    finally:
        serve.send_signal(signal.SIGINT)
        status = serve.wait(timeout=30)
        log.close()
    assert status == 0, (tmp_path / "serve.log").read_text()
    deadline = time.monotonic() + 5
    while any(_alive(child) for child in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(child) for child in children)

"""`make run`'s server: gunicorn and one job worker, started together and stopped together.

Ctrl-C (or SIGTERM) stops both and waits for them; if either ends on its own, the other is stopped
too and this exits with the first one's status, so a worker that cannot start never leaves a web
server running whose imports and exports would wait forever. Production runs them as separate
systemd units instead (deploy/systemd/).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
STOP_SECONDS = 15


def main() -> int:
    workers = int(os.environ.get("JOB_WORKERS", "1"))
    commands = [[str(BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "wsgi:app"]]
    commands += [[str(BIN / "flask"), "--app", "wsgi", "jobs", "worker"] for _ in range(workers)]
    processes = [subprocess.Popen(command, cwd=ROOT) for command in commands]
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    status = 0
    while not stopping:
        ended = [process for process in processes if process.poll() is not None]
        if ended:
            status = ended[0].returncode or 0
            print(f"{ended[0].args[0]} ended ({status}): stopping the others", file=sys.stderr)
            break
        time.sleep(0.2)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return status


if __name__ == "__main__":
    sys.exit(main())

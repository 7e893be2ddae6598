"""Wait until a URL answers 200, for at most --seconds; exit 0 then, 1 otherwise (standard library
only). systemd's ExecStartPost of deploy/systemd/carte-web@.service: the unit counts as started
only once its gunicorn serves.

    python3 deploy/wait_alive.py http://127.0.0.1:8001/healthz --seconds 30
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=30.0)
    arguments = parser.parse_args(argv)
    deadline = time.monotonic() + arguments.seconds
    while time.monotonic() < deadline:
        if answers(arguments.url):
            return 0
        time.sleep(0.5)
    print(f"{arguments.url} did not answer 200 within {arguments.seconds:g} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

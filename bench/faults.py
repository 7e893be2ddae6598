"""Benchmark: how the product answers when its stores fail (issue 14, docs/operations.md "Faults and
timeouts").

What it starts, all its own and stopped by PID at the end (whatever happens):
  - a throw-away PostgreSQL (initdb into a temporary directory, port --pg-port; as root, run as the
    `postgres` user), holding a database of --artisans artisans with their cards (bench/_setup.py);
  - a throw-away redis-server (port --redis-port), the rate-limit store;
  - gunicorn with config/gunicorn.conf.py (2 sync workers), CARTE_ENV=production, on both.

What it prints:
  (a) verify requests per second with Redis up, then with Redis down (its process stopped), in the
      same run, alternately for --rounds rounds (the other work on the shared cores moves both
      alike): --connections concurrent clients for --duration seconds each (a Python load loop,
      bench/verify_load.py's, sharing the cores with gunicorn), the medians and the statuses;
  (b) with the database hung (every PostgreSQL process SIGSTOPped: the kernel still accepts and
      acknowledges, nothing answers), the time and status of POST /api/v1/verify, a person's page
      (GET /check?card=...), GET /readyz and GET /healthz, twice (first through the workers' pooled
      connections, then through new ones); then SIGCONT and the same once more (recovered);
  (c) the same with the database stopped (connection refused).
Targets: every answer with the database hung or stopped within 5 s (503 for the three pages that
need it, 200 for /healthz, instantly); verify with Redis down answers 200 at a rate comparable to
Redis up.

Run (from the project root; needs PostgreSQL's initdb in /usr/lib/postgresql/*/bin and redis-server):
  .venv/bin/python bench/faults.py
  .venv/bin/python bench/faults.py --artisans 20000 --duration 10 --connections 8
"""

from __future__ import annotations

import argparse
import glob
import http.client
import json
import os
import pwd
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from bench._setup import build_database_with_cards, sample_qr_texts, workspace
from bench.verify_load import free_port, run_python_load, stop_gunicorn, wait_until_healthy
from webapp.settings import PROJECT_ROOT

HOST = "127.0.0.1"
PUBLIC_BASE_URL = "https://carte.test"
CLIENT_TIMEOUT_SECONDS = 60  # a hang shows as a time near this, never as a stuck bench
TARGET_SECONDS = 5.0
REDIS_RETRY_SECONDS = 5  # config/defaults.py's, which the gunicorn here runs with


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artisans", type=int, default=5_000)
    parser.add_argument("--duration", type=int, default=8, help="seconds of load, Redis up and Redis down")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of Redis up and down")
    parser.add_argument("--pg-port", type=int, default=55432)
    parser.add_argument("--redis-port", type=int, default=56379)
    return parser.parse_args()


def _as_postgres_user() -> list[str]:
    """initdb and postgres refuse to run as root: run them as `postgres` then."""
    if os.geteuid() != 0:
        return []
    pwd.getpwnam("postgres")
    return ["runuser", "-u", "postgres", "--"]


class ThrowAwayPostgres:
    def __init__(self, port: int) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries:
            raise SystemExit("no initdb in /usr/lib/postgresql/*/bin: install postgresql to run this bench")
        self.bin = Path(binaries[-1]).parent
        # Its own temporary directory: the workspace is private to this user, and the server may run
        # as another (postgres, when this runs as root). Removed by stop().
        self.directory, self.port = Path(tempfile.mkdtemp(prefix="carte-faults-pg-")), port
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        self.data = self.directory / "data"
        run = _as_postgres_user()
        subprocess.run(
            [*run, str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"],
            check=True,
            capture_output=True,
        )
        self.log = (self.directory / "log").open("wb")
        self.process = subprocess.Popen(
            [
                *run,
                str(self.bin / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(port),
                "-k",
                str(self.directory),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(100):
            if (self.data / "postmaster.pid").exists() and _answers(port):
                break
            time.sleep(0.2)
        else:
            raise SystemExit(f"the throw-away PostgreSQL did not start: {(self.directory / 'log').read_text()[-2000:]}")
        self.url = f"postgresql+psycopg://postgres@{HOST}:{port}/postgres"

    def pids(self) -> list[int]:
        """The postmaster and every backend (each connection is its own process)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
        return [postmaster, *map(int, children)]

    def signal_all(self, signum: int) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.signal_all(signal.SIGCONT)
                os.kill(int((self.data / "postmaster.pid").read_text().split()[0]), signal.SIGINT)  # fast shutdown
            except (FileNotFoundError, ProcessLookupError, ValueError):
                pass
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _answers(port: int) -> bool:
    import socket

    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


class ThrowAwayRedis:
    def __init__(self, port: int) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise SystemExit("no redis-server: install redis-server to run this bench")
        self.port = port
        self.process = subprocess.Popen(
            [server, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(50):
            if _answers(port):
                return
            time.sleep(0.1)
        raise SystemExit("the throw-away redis-server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def start_gunicorn(port: int, database_url: str, keys_dir: Path, redis_port: int, log_path: Path):
    env = {
        **{name: os.environ[name] for name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if name in os.environ},
        "GUNICORN_BIND": f"{HOST}:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_ACCESSLOG": "/dev/null",
        "GUNICORN_LOGLEVEL": "warning",
        "CARTE_ENV": "production",
        "DATABASE_URL": database_url,
        "KEYS_DIR": str(keys_dir),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "SESSION_COOKIE_SECURE": "true",
        "RATELIMIT_STORAGE_URI": f"redis://{HOST}:{redis_port}",
        # Counted on every request, never reached: the figures measure the store, not refusals.
        "VERIFY_RATE_LIMIT": "1000000 per minute",
    }
    log = log_path.open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.conf.py", "wsgi:app"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process, log


def timed(port: int, method: str, path: str, body: str | None = None) -> tuple[str, float, str]:
    """(status, seconds, what the answer says) of one request; a client timeout shows as "timeout"."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=CLIENT_TIMEOUT_SECONDS)
    try:
        headers = {"Content-Type": "application/json"} if body else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        status = str(response.status)
        said = ""
        if response.getheader("Content-Type", "").startswith("application/json"):
            data = json.loads(answer)
            said = data.get("error") or data.get("verdict") or ",".join(data.get("failed", [])) or ""
        return status, time.perf_counter() - started, said
    except (OSError, http.client.HTTPException) as error:
        return f"error:{type(error).__name__}", time.perf_counter() - started, ""
    finally:
        connection.close()


def probe(port: int, label: str, verify_body: str, card_number: str) -> list[float]:
    requests = [
        ("POST /api/v1/verify", "POST", "/api/v1/verify", verify_body),
        ("GET /check (a person's page)", "GET", f"/check?card={card_number}", None),
        ("GET /readyz", "GET", "/readyz", None),
        ("GET /healthz", "GET", "/healthz", None),
    ]
    times = []
    for name, method, path, body in requests:
        status, seconds, said = timed(port, method, path, body)
        times.append(seconds)
        print(f"  {label:<28} {name:<30} {status:>4} {said:<22} {seconds:6.2f} s")
    return times


def verify_load(port: int, bodies: list[str], seconds: int, connections: int, label: str) -> float:
    result = run_python_load(port, "POST", "/api/v1/verify", bodies, seconds, connections)
    print(result.line(label))
    return result.rps


def main() -> None:
    args = parse_args()
    with workspace() as directory:
        postgres = redis = server = None
        log = None
        try:
            postgres = ThrowAwayPostgres(args.pg_port)
            print(f"throw-away PostgreSQL on port {args.pg_port} (pid {postgres.process.pid})")
            bench = build_database_with_cards(directory, args.artisans, database_url=postgres.url, drop_existing=True)
            bodies = [json.dumps({"qr": qr}) for qr in sample_qr_texts(bench, PUBLIC_BASE_URL, 500)]
            with bench.engine.connect() as connection:
                from sqlalchemy import text

                card_number = connection.scalar(text("SELECT number FROM card LIMIT 1"))
            bench.engine.dispose()
            redis = ThrowAwayRedis(args.redis_port)
            port = free_port()
            server, log = start_gunicorn(port, postgres.url, directory / "keys", args.redis_port, directory / "g.log")
            wait_until_healthy(server, port, directory / "g.log")
            print(f"gunicorn (2 sync workers, production) on port {port}, Redis on {args.redis_port}\n")

            print(f"(a) verify with the rate-limit store up, then down, alternately ({args.rounds} rounds)")
            ups, downs = [], []
            for round_number in range(1, args.rounds + 1):
                if round_number > 1:
                    redis = ThrowAwayRedis(args.redis_port)
                    time.sleep(REDIS_RETRY_SECONDS + 1)  # the workers go back to Redis after this
                label = f"round {round_number}: Redis"
                ups.append(verify_load(port, bodies, args.duration, args.connections, f"{label} up"))
                redis.stop()
                downs.append(verify_load(port, bodies, args.duration, args.connections, f"{label} down"))
            up, down = statistics.median(ups), statistics.median(downs)
            print(f"  median: Redis up {up:,.0f} req/s, down {down:,.0f} req/s, down / up {down / up:.2f}")
            statuses = Counter(timed(port, "POST", "/api/v1/verify", bodies[0])[0] for _ in range(5))
            print(f"  verify with Redis down: statuses {dict(statuses)}")
            print(f"  readyz with Redis down: {timed(port, 'GET', '/readyz')[0]}\n")
            redis = ThrowAwayRedis(args.redis_port)

            print("(b) database hung (every PostgreSQL process SIGSTOPped)")
            postgres.signal_all(signal.SIGSTOP)
            hung = probe(port, "hung, pooled connections", bodies[0], card_number)
            hung += probe(port, "hung, new connections", bodies[0], card_number)
            postgres.signal_all(signal.SIGCONT)
            time.sleep(0.5)
            probe(port, "after SIGCONT", bodies[0], card_number)

            print("\n(c) database stopped (connection refused)")
            postgres.stop()
            stopped = probe(port, "stopped", bodies[0], card_number)

            worst = max(hung + stopped)
            passed = worst <= TARGET_SECONDS
            print(
                f"\nworst answer with the database hung or stopped: {worst:.2f} s "
                f"(target {TARGET_SECONDS:.0f} s): {'PASS' if passed else 'MISS'}"
            )
            print(f"verify rps, Redis up {up:,.0f} / down {down:,.0f}")
        finally:
            if server is not None:
                stop_gunicorn(server)
            if log is not None:
                log.close()
            if redis is not None:
                redis.stop()
            if postgres is not None:
                postgres.stop()


if __name__ == "__main__":
    main()

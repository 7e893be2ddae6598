"""Benchmark: POST /api/v1/verify under load, against a bare app doing the same work, and against /healthz.

What it measures: two gunicorn servers with the same settings (config/gunicorn.conf.py: 2 sync workers,
access log to /dev/null), started together over one throwaway database of N artisans with their cards:
  - the project (wsgi:app, every extension on; rate limiting on, memory storage, a limit high
    enough never to refuse but counted on every request);
  - the bare app (bench/bare_verify_app.py: plain Flask, no extension, the same ES256 check and one
    primary-key lookup in the same SQLite file): what a verify request costs at least on this stack.
A load generator drives each endpoint for --duration seconds with --connections concurrent
connections (a closed loop: each connection sends its next request when the previous answer arrives;
gunicorn's sync workers close the connection after each response, so clients reconnect every time).
The verify bodies are {"qr": "<QR text>"}, a random one per request among 5,000 QR texts of distinct cards.
  (a) GET /healthz of each app, once: the floor of each stack;
  (b) POST /api/v1/verify (project) and POST /verify (bare), alternately, in --rounds rounds
      (bare, project, partner, bare, project, partner...), so that the other work on the shared cores
      moves them alike; "partner" is the project's verify called by a partner's system with its API
      key (Authorization: Bearer), the demo transporter's two offers in each answer.
It prints every measurement (requests/s, p50, p99, non-2xx and socket errors), then the medians over
the rounds, and the targets with PASS/MISS:
  - project verify rps / bare verify rps >= 0.80 (the median of the rounds' ratios);
  - project verify p99 <= 20 ms at 8 connections (the median of the rounds' p99; the worst is shown);
  - project verify rps / project /healthz rps >= 0.40;
  - partner verify rps / anonymous verify rps >= 0.75 (the median of the rounds' ratios);
  - zero errors in every load.

The load generator is wrk when installed (a Lua script, written to the temporary directory, picks
a random body per request), else a Python one (a thread per connection, http.client), which competes
with the servers for the same cores and so gives lower figures. Either way the generator shares the 2
cores with gunicorn: compare runs on a quiet machine. Traffic goes to 127.0.0.1 only; both gunicorns
are always stopped (their process groups) at the end. bench/profile_verify.py tells where the time of
one request goes.

Run (from the project root):
  .venv/bin/python bench/verify_load.py                     # 100,000 artisans, 8 connections, 3 rounds of 8 s
  .venv/bin/python bench/verify_load.py --artisans 622000   # the national register
  .venv/bin/python bench/verify_load.py --rounds 5 --duration 10 --connections 32
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import (
    DEFAULT_PUBLIC_BASE_URL,
    build_database_with_cards,
    create_partner_with_key,
    sample_qr_texts,
    workspace,
)
from webapp.settings import PROJECT_ROOT

HOST = "127.0.0.1"
VERIFY_PATH = "/api/v1/verify"
BARE_VERIFY_PATH = "/verify"
HEALTH_PATH = "/healthz"
PROJECT_APP = "wsgi:app"
BARE_APP = "bench.bare_verify_app:app"
DISTINCT_BODIES = 5_000
PRECHECK_BODIES = 50
TARGET_BARE_RATIO = 0.80  # project verify rps / bare verify rps
TARGET_HEALTH_RATIO = 0.40  # project verify rps / project /healthz rps
TARGET_PARTNER_RATIO = 0.75  # a partner system's verify (API key, its offers) / the anonymous verify
PARTNER = "partner"
TARGET_P99_MS = 20.0
TARGET_CONNECTIONS = 8
THREADS = 2
STARTUP_SECONDS = 60

# wrk: every thread loads the bodies (one JSON body a line) and sends a random one per request;
# `done` prints the figures as one JSON line for this script to read.
WRK_SCRIPT = r"""
local method, path, bodies_file, authorization = "GET", "/", nil, nil
local bodies = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  method, path, bodies_file, authorization = args[1], args[2], args[3], args[4]
  if authorization then wrk.headers["Authorization"] = authorization end
  if bodies_file then
    for line in io.lines(bodies_file) do bodies[#bodies + 1] = line end
    wrk.headers["Content-Type"] = "application/json"
  end
  math.randomseed(os.time() * 1000 + (id or 0))
end

function request()
  if #bodies > 0 then
    return wrk.format(method, path, nil, bodies[math.random(#bodies)])
  end
  return wrk.format(method, path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self, label: str) -> str:
        return (
            f"{label:<32} {self.rps:>9,.0f} req/s  p50 {self.p50_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms  "
            f"non-2xx {self.non_2xx}  socket errors {self.socket_errors}  ({self.requests:,} requests)"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artisans", type=int, default=100_000, help="artisans (each with a card) in the database")
    parser.add_argument("--duration", type=int, default=8, help="seconds of each measured load")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (bare verify, project verify)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load per app and endpoint")
    parser.add_argument("--connections", type=int, default=TARGET_CONNECTIONS, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (GUNICORN_WORKERS)")
    parser.add_argument(
        "--load-generator", choices=["auto", "wrk", "python"], default="auto", help="auto: wrk if installed"
    )
    parser.add_argument("--database-url", help="a SQLite file (sqlite:///...) to use instead of a temporary one")
    parser.add_argument("--drop-existing", action="store_true", help="drop the tables of --database-url first")
    args = parser.parse_args()
    if min(args.artisans, args.duration, args.rounds, args.connections, args.workers) < 1 or args.warmup < 0:
        parser.error("--artisans, --duration, --rounds, --connections and --workers must be positive")
    if args.duration > 120 or args.warmup > 30 or args.rounds > 15:
        parser.error("the run is bounded: --duration <= 120, --warmup <= 30, --rounds <= 15")
    if args.database_url and not args.database_url.startswith("sqlite:///"):
        parser.error("the bare app reads SQLite only: --database-url must be a sqlite:/// URL")
    return args


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_gunicorn(
    app: str, database_url: str, keys_dir: Path, port: int, workers: int, log_path: Path
) -> tuple[subprocess.Popen[bytes], BinaryIO]:
    """Serve `app` with config/gunicorn.conf.py. Only the settings below reach it: nothing from the
    caller's environment (a DATABASE_URL, a Redis rate-limit store...) can change what is measured."""
    env = {
        **{name: os.environ[name] for name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if name in os.environ},
        "GUNICORN_BIND": f"{HOST}:{port}",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_ACCESSLOG": "/dev/null",  # "" is refused by gunicorn ("'' isn't writable")
        "GUNICORN_LOGLEVEL": "warning",
        "DATABASE_URL": database_url,
        "KEYS_DIR": str(keys_dir),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_BASE_URL": DEFAULT_PUBLIC_BASE_URL,
        "CARTE_ENV": "development",
        "RATELIMIT_STORAGE_URI": "memory://",
        # Counted on every request (Flask-Limiter on), never reached: 8 connections make ~100,000 a minute.
        "VERIFY_RATE_LIMIT": "1000000 per minute",
        # The bare app's own settings (the project ignores them).
        "BARE_DATABASE": database_url.removeprefix("sqlite:///"),
        "BARE_KEYS_DIR": str(keys_dir),
        "BARE_PUBLIC_BASE_URL": DEFAULT_PUBLIC_BASE_URL,
    }
    log = log_path.open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.conf.py", app],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so the workers stop with it
    )
    return process, log


def stop_gunicorn(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def wait_until_healthy(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", HEALTH_PATH)
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(
        f"gunicorn did not answer {HEALTH_PATH} within {STARTUP_SECONDS} s:\n{log_path.read_text()[-3000:]}"
    )


def precheck_bodies(port: int, path: str, bodies: list[str], authorization: str | None = None) -> None:
    """Every sampled body must get the verdict valid (and, for a partner, its offers, each eligible),
    else the load would measure the wrong path."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    headers = {"Content-Type": "application/json", **({"Authorization": authorization} if authorization else {})}
    try:
        for body in bodies:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            verdict = json.loads(answer).get("verdict") if response.status == 200 else None
            offers = json.loads(answer).get("offers") if response.status == 200 else None
            if authorization and (not offers or not all(offer["eligible"] for offer in offers)):
                verdict = "partner offers missing"
            if verdict != "valid":
                raise SystemExit(
                    f"abort: {path} answered {response.status} {answer[:300]!r} for a sample card "
                    f"(expected {{'verdict': 'valid'}}); body: {body[:120]}..."
                )
    finally:
        connection.close()
    caller = " with the partner's API key (offers included)" if authorization else ""
    print(f"pre-check: {len(bodies)} sample bodies answered verdict 'valid' on {path}{caller}")


def run_wrk(
    wrk: str,
    script: Path,
    port: int,
    method: str,
    path: str,
    bodies: Path | None,
    seconds: int,
    connections: int,
    authorization: str | None = None,
) -> LoadResult:
    command = [
        wrk,
        f"-t{THREADS}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://{HOST}:{port}{path}",
        "--",
        method,
        path,
        *([str(bodies)] if bodies else []),
        *([authorization] if authorization and bodies else []),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    marker = next((line for line in completed.stdout.splitlines() if line.startswith("WRK_RESULT ")), None)
    if completed.returncode != 0 or marker is None:
        raise SystemExit(f"wrk failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    figures = json.loads(marker.removeprefix("WRK_RESULT "))
    return LoadResult(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        non_2xx=figures["non2xx"],  # wrk counts statuses > 399 (neither endpoint redirects)
        socket_errors=figures["connect"] + figures["read"] + figures["write"] + figures["timeout"],
    )


def run_python_load(
    port: int,
    method: str,
    path: str,
    bodies: list[str],
    seconds: int,
    connections: int,
    authorization: str | None = None,
) -> LoadResult:
    """A thread per connection, each sending requests until the deadline (http.client reopens closed ones)."""
    deadline = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(connections)]
    non_2xx = [0] * connections
    errors = [0] * connections
    headers = {"Content-Type": "application/json"} if bodies else {}
    if authorization:
        headers["Authorization"] = authorization

    def client(slot: int) -> None:
        pick = random.Random(slot).choice
        connection = http.client.HTTPConnection(HOST, port, timeout=5)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                connection.request(method, path, body=pick(bodies) if bodies else None, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[slot] += 1
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=5)
                continue
            latencies[slot].append(time.perf_counter() - started)
            if not 200 <= response.status < 300:
                non_2xx[slot] += 1
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(slot,), daemon=True) for slot in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    elapsed = time.perf_counter() - started
    merged = sorted(value for values in latencies for value in values)

    def percentile(fraction: float) -> float:
        return merged[min(len(merged) - 1, int(fraction * len(merged)))] * 1000 if merged else float("nan")

    return LoadResult(len(merged), elapsed, percentile(0.50), percentile(0.99), sum(non_2xx), sum(errors))


@dataclass(frozen=True)
class Server:
    label: str
    app: str
    verify_path: str
    port: int


def median_result(results: list[LoadResult]) -> LoadResult:
    """The median of each figure over the rounds (errors are summed: none may be hidden)."""
    return LoadResult(
        requests=int(statistics.median(r.requests for r in results)),
        seconds=statistics.median(r.seconds for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        non_2xx=sum(r.non_2xx for r in results),
        socket_errors=sum(r.socket_errors for r in results),
    )


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def main() -> None:
    args = parse_args()
    wrk = shutil.which("wrk") if args.load_generator in ("auto", "wrk") else None
    if args.load_generator == "wrk" and wrk is None:
        raise SystemExit("wrk is not installed")
    with workspace() as directory:
        bench = build_database_with_cards(
            directory, args.artisans, database_url=args.database_url, drop_existing=args.drop_existing
        )
        qr_texts = sample_qr_texts(bench, DEFAULT_PUBLIC_BASE_URL, DISTINCT_BODIES)
        # The demo transporter (two offers, every valid card eligible, a monthly quota) and its API key.
        authorization = f"Bearer {create_partner_with_key(bench)}"
        bench.engine.dispose()
        bodies = [json.dumps({"qr": text}) for text in qr_texts]
        bodies_path = directory / "bodies.jsonl"
        bodies_path.write_text("\n".join(bodies) + "\n", encoding="utf-8")
        script_path = directory / "load.lua"
        script_path.write_text(WRK_SCRIPT, encoding="utf-8")
        print(f"setup: {len(bodies):,} distinct QR texts of cards for the verify load")

        project = Server("project", PROJECT_APP, VERIFY_PATH, free_port())
        bare = Server("bare", BARE_APP, BARE_VERIFY_PATH, free_port())
        running: list[tuple[Server, subprocess.Popen[bytes], BinaryIO, Path]] = []
        health: dict[str, LoadResult] = {}
        verify: dict[str, list[LoadResult]] = {project.label: [], bare.label: [], PARTNER: []}
        try:
            for server in (project, bare):
                log_path = directory / f"gunicorn-{server.label}.log"
                process, log = start_gunicorn(
                    server.app, bench.url, bench.keys_dir, server.port, args.workers, log_path
                )
                running.append((server, process, log, log_path))
                wait_until_healthy(process, server.port, log_path)
                precheck_bodies(server.port, server.verify_path, bodies[:PRECHECK_BODIES])
            precheck_bodies(project.port, project.verify_path, bodies[:PRECHECK_BODIES], authorization)

            def load(server: Server, path: str, seconds: int, key: str | None = None) -> LoadResult:
                method, with_bodies = ("GET", False) if path == HEALTH_PATH else ("POST", True)
                if wrk is not None:
                    return run_wrk(
                        wrk,
                        script_path,
                        server.port,
                        method,
                        path,
                        bodies_path if with_bodies else None,
                        seconds,
                        args.connections,
                        key,
                    )
                return run_python_load(
                    server.port, method, path, bodies if with_bodies else [], seconds, args.connections, key
                )

            generator = (
                f"wrk ({wrk}), {THREADS} threads"
                if wrk
                else "Python load generator, one thread per connection (http.client, reconnects when the server closes)"
            )
            print(
                f"load: {generator}, {args.connections} connections, {args.duration} s per measurement "
                f"({args.warmup} s warm-up per app and endpoint), gunicorn {args.workers} sync workers per app"
            )
            for server in (bare, project):
                if args.warmup:
                    load(server, HEALTH_PATH, args.warmup)
                health[server.label] = load(server, HEALTH_PATH, args.duration)
                print(health[server.label].line(f"{server.label} GET {HEALTH_PATH}"), flush=True)
            for server in (bare, project):
                if args.warmup:
                    load(server, server.verify_path, args.warmup)
            if args.warmup:
                load(project, project.verify_path, args.warmup, authorization)
            for round_number in range(1, args.rounds + 1):
                for server in (bare, project):
                    result = load(server, server.verify_path, args.duration)
                    verify[server.label].append(result)
                    print(result.line(f"{round_number}: {server.label} POST {server.verify_path}"), flush=True)
                result = load(project, project.verify_path, args.duration, authorization)
                verify[PARTNER].append(result)
                print(result.line(f"{round_number}: {PARTNER} POST {project.verify_path}"), flush=True)
        finally:
            for _server, process, log, _log_path in running:
                stop_gunicorn(process)
                log.close()

        ratios = [
            p.rps / b.rps if b.rps else 0.0 for p, b in zip(verify[project.label], verify[bare.label], strict=True)
        ]
        ratio = statistics.median(ratios)
        project_verify, bare_verify = median_result(verify[project.label]), median_result(verify[bare.label])
        health_ratio = project_verify.rps / health[project.label].rps if health[project.label].rps else 0.0
        worst_p99 = max(r.p99_ms for r in verify[project.label])
        every_load = [*health.values(), *verify[project.label], *verify[bare.label], *verify[PARTNER]]
        partner_ratios = [
            p.rps / a.rps if a.rps else 0.0 for p, a in zip(verify[PARTNER], verify[project.label], strict=True)
        ]
        partner_ratio = statistics.median(partner_ratios)
        partner_verify = median_result(verify[PARTNER])
        errors = sum(r.non_2xx + r.socket_errors for r in every_load)
        at_target = args.connections == TARGET_CONNECTIONS
        print()
        print(f"artisans with cards:        {args.artisans:,}")
        print(f"medians over {args.rounds} rounds:")
        print("  " + bare_verify.line(f"bare POST {BARE_VERIFY_PATH}"))
        print("  " + project_verify.line(f"project POST {VERIFY_PATH}"))
        print("  " + partner_verify.line(f"{PARTNER} POST {VERIFY_PATH}"))
        print(
            f"project / bare verify rps:  {ratio:.3f}   target >= {TARGET_BARE_RATIO:.2f}   "
            f"{verdict(ratio >= TARGET_BARE_RATIO)}   (rounds: {', '.join(f'{r:.3f}' for r in ratios)})"
        )
        p99_verdict = (
            verdict(project_verify.p99_ms <= TARGET_P99_MS)
            if at_target
            else f"n/a (measured at {args.connections} connections)"
        )
        print(
            f"project verify p99:         {project_verify.p99_ms:.2f} ms (worst round {worst_p99:.2f} ms)   "
            f"target <= {TARGET_P99_MS:.0f} ms at {TARGET_CONNECTIONS} connections   {p99_verdict}"
        )
        print(
            f"project verify / healthz:   {health_ratio:.3f}   target >= {TARGET_HEALTH_RATIO:.2f}   "
            f"{verdict(health_ratio >= TARGET_HEALTH_RATIO)}   "
            f"(bare: {bare_verify.rps / health[bare.label].rps if health[bare.label].rps else 0.0:.3f})"
        )
        print(
            f"partner / anonymous verify: {partner_ratio:.3f}   target >= {TARGET_PARTNER_RATIO:.2f}   "
            f"{verdict(partner_ratio >= TARGET_PARTNER_RATIO)}   "
            f"(rounds: {', '.join(f'{r:.3f}' for r in partner_ratios)})"
        )
        print(f"errors (every load):        {errors}   target 0   {verdict(errors == 0)}")
        for server, _process, _log, log_path in running:
            if log_path.exists():
                tail = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()][-5:]
                if tail:
                    print(f"gunicorn log of {server.label} (last lines):\n  " + "\n  ".join(tail))


if __name__ == "__main__":
    main()

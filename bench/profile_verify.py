"""Profile: where a POST /api/v1/verify request spends its time, beyond what the bare app spends.

No server and no network: each app's WSGI callable is called in this process with a prepared
environ (a fresh body stream per request), as gunicorn's worker would call it, so the figures are
the app's own CPU time per request (time.process_time: this process's threads included), free of
the load generator and less moved by the other work on the machine (the best of --repeats runs is
kept).
  (a) the project (webapp.create_app, rate limiting on with its memory storage, as the load bench);
  (b) the bare app (bench/bare_verify_app.py: Flask, ES256, one sqlite3 lookup).
It prints microseconds per request for each and their ratio (bare / project: the ceiling of the
load bench's rps ratio when the server is the bottleneck), then, with --profile, cProfile's top
functions of the project's loop by own time and by cumulative time.

Run (from the project root):
  .venv/bin/python bench/profile_verify.py                   # 20,000 artisans, 3,000 requests
  .venv/bin/python bench/profile_verify.py --profile --top 40
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.test import EnvironBuilder

from bench._setup import DEFAULT_PUBLIC_BASE_URL, build_database_with_cards, sample_qr_texts, workspace

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artisans", type=int, default=20_000, help="artisans (each with a card) in the database")
    parser.add_argument("--requests", type=int, default=3_000, help="requests per timed run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per app (the best is kept)")
    parser.add_argument("--profile", action="store_true", help="also print cProfile's top functions of the project")
    parser.add_argument("--top", type=int, default=30, help="functions listed per cProfile table")
    args = parser.parse_args()
    if min(args.artisans, args.requests, args.repeats, args.top) < 1:
        parser.error("every number must be positive")
    return args


def prepared_environs(path: str, bodies: list[str]) -> list[tuple[dict[str, Any], bytes]]:
    """One WSGI environ per body (a client's usual headers), built once; the body is given apart."""
    prepared = []
    for body in bodies:
        data = body.encode()
        environ = EnvironBuilder(
            path=path,
            method="POST",
            data=data,
            headers={"Content-Type": "application/json", "Accept-Language": "fr-FR,fr;q=0.9,en;q=0.8"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        ).get_environ()
        prepared.append((environ, data))
    return prepared


def call_all(app: WsgiApp, environs: list[tuple[dict[str, Any], bytes]], count: int) -> None:
    statuses: list[str] = []

    def start_response(status: str, _headers: Any, _exc_info: Any = None) -> None:
        statuses.append(status)

    for number in range(count):
        environ, data = environs[number % len(environs)]
        environ = {**environ, "wsgi.input": io.BytesIO(data)}
        response = app(environ, start_response)
        b"".join(response)
        close = getattr(response, "close", None)
        if close:
            close()
        if not statuses[-1].startswith("200"):
            raise SystemExit(f"abort: answered {statuses[-1]} for {data[:100]!r}")


def best_microseconds(app: WsgiApp, environs: list[tuple[dict[str, Any], bytes]], count: int, repeats: int) -> float:
    call_all(app, environs, min(count, 500))  # warm-up: caches, pool, keyring
    timings = []
    for _ in range(repeats):
        started = time.process_time()
        call_all(app, environs, count)
        timings.append((time.process_time() - started) / count * 1e6)
    return min(timings)


def main() -> None:
    args = parse_args()
    with workspace() as directory:
        bench = build_database_with_cards(directory, args.artisans)
        qr_texts = sample_qr_texts(bench, DEFAULT_PUBLIC_BASE_URL, min(2_000, args.artisans))
        bench.engine.dispose()
        bodies = [json.dumps({"qr": text}) for text in qr_texts]

        from webapp import create_app

        project = create_app(
            {
                "DATABASE_URL": bench.url,
                "KEYS_DIR": str(bench.keys_dir),
                "SECRET_KEY": secrets.token_urlsafe(48),
                "PUBLIC_BASE_URL": DEFAULT_PUBLIC_BASE_URL,
                "CARTE_ENV": "development",
                "RATELIMIT_STORAGE_URI": "memory://",
                "VERIFY_RATE_LIMIT": "1000000 per minute",  # as bench/verify_load.py: counted, never reached
            }
        )
        os.environ.update(
            BARE_DATABASE=bench.url.removeprefix("sqlite:///"),
            BARE_KEYS_DIR=str(bench.keys_dir),
            BARE_PUBLIC_BASE_URL=DEFAULT_PUBLIC_BASE_URL,
        )
        from bench.bare_verify_app import app as bare

        project_environs = prepared_environs("/api/v1/verify", bodies)
        bare_environs = prepared_environs("/verify", bodies)
        project_us = best_microseconds(project.wsgi_app, project_environs, args.requests, args.repeats)
        bare_us = best_microseconds(bare.wsgi_app, bare_environs, args.requests, args.repeats)
        print(f"project POST /api/v1/verify: {project_us:7.1f} us per request (best of {args.repeats})")
        print(f"bare    POST /verify:        {bare_us:7.1f} us per request")
        print(f"bare / project time:         {bare_us / project_us:.3f}  (the rps ratio if the app were all the cost)")

        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            call_all(project.wsgi_app, project_environs, args.requests)
            profiler.disable()
            for order in ("tottime", "cumulative"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(args.top)
                print(f"\n--- project, {args.requests} requests, by {order} ---")
                print(out.getvalue().split("\n", 6)[-1] if "ncalls" in out.getvalue() else out.getvalue())


if __name__ == "__main__":
    main()

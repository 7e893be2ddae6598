"""Benchmark: the verifier app (/scan) in headless Chromium with a fake camera, and what it downloads.

Four figures (issue 8), each printed with its target and PASS/MISS; nothing is asserted.

1. Camera to verdict, offline. A counter agent of the demo transporter (barid-colis, in
   webapp/services/partners/demo.py) signs in to the app, which loads its service worker and its
   trust bundle (the transporter's: every card's status and the two offers' eligibility lists); then
   the network is cut (Playwright's context.set_offline(True)) and the page is reloaded --scans times.
   Each time the worker serves the app, the camera opens (Chromium's fake device plays a .y4m of the
   card's QR code, made by tests/browser/fake_camera.py from the PNG the app draws), the decoder reads
   the code, card-verifier.js checks it against the stored bundle and the verdict screen is drawn.
   Timed in the page, from the performance mark "scan:first-frame" (static/js/scan/camera.js: the
   video's `loadeddata`, the stream's first frame) to "scan:verdict" (static/js/scan/app.js: right
   after the verdict screen's DOM is filled; its paint follows within a frame). That includes the wait
   for the next decode tick, loading and compiling the decoder's wasm (from the worker's cache) on
   this page load, the decode, reading the stored bundle (signatures checked, lists inflated) and the
   verification. Target: median <= 1 s (p90 printed). Also printed, without a target: the same from
   a tap on "scan another card" to the verdict, the camera already running and the decoder warm.
2. Verification after decode: card-verifier.js's verifyScan on one scanned QR text (token ->
   ES256 signature with WebCrypto -> expiry -> status list bits -> each offer's eligibility bit),
   with what the app holds (trust.material(): the keys, the status list and the offers of the stored
   bundle, read once before the timing), --runs times over the QR texts of distinct random cards, in
   the same offline page, timed with performance.now(). Target: median <= 50 ms. Also printed: the
   time of trust.material() itself, which the app runs on every scan.
3. App shell transfer: every file the service worker precaches (the PRECACHE list of /scan/sw.js as
   the app serves it) except the decoder's .wasm, fetched from the app, each gzip-compressed (level
   6, a common server setting), summed. Target <= 100 KB. The per-file table is printed.
4. The trust bundle of the demo transporter (GET /api/v1/bundle with its API key: what its staff's
   phones download) at --cards cards, gzip level 6. Target <= 250 KB at 622,000 cards. A register
   where every card is in force gives lists of one repeated value, which zlib shrinks to almost
   nothing: the figure judged is taken after --revoked-share of the cards (5% unless told, drawn at
   random, with the lifecycle service's revoke_card) are revoked, which scatters bits through the
   status list and both offers' eligibility lists. The size before is printed too.

Set-up (timed and printed, not counted) in a temporary directory: bench/_setup.py's builder (SQLite,
migrations, reference data, one ES256 key, N artisans and a card each, with the roll-out service),
the demo transporter with its offers and an API key (create_partner_with_key) and one counter agent,
then the revocations (the filmed card stays valid);
the app (create_app) served by Werkzeug on 127.0.0.1 in a thread of this process; Debian's Chromium
(/usr/bin/chromium) driven by Playwright, phone-sized (360x740). The camera films the card issued
last, the densest QR code (the longest name, the highest status index). Any request to another
origin is refused and counted. Figures 1 and 2 share the 2 cores with this process: compare runs
on a quiet machine.

Run (from the project root):
  .venv/bin/python bench/scan.py                  # 622,000 cards (the bundle target's size)
  .venv/bin/python bench/scan.py --cards 20000    # a quick check; the bundle is then smaller
  .venv/bin/python bench/scan.py --revoked-share 0 # every card in force (the smallest bundle)
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import logging
import random
import re
import secrets
import socket
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from sqlalchemy import func, select

from bench._setup import (
    BENCH_ACTOR,
    NATIONAL_ARTISANS,
    BenchDatabase,
    build_database_with_cards,
    create_partner_with_key,
    sample_qr_texts,
    workspace,
)
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE  # the browser tests' own: one copy
from tests.browser.fake_camera import png_to_y4m
from webapp import create_app
from webapp.models import Card, Organisation, RevocationReason, Role, User
from webapp.services.cards.lifecycle import revoke_card
from webapp.services.cards.qr import card_qr_png

HOST = "127.0.0.1"
DEMO_TRANSPORTER = "barid-colis"
TARGET_VERDICT_MS = 1000.0
TARGET_VERIFY_MS = 50.0
TARGET_SHELL_BYTES = 100_000
TARGET_BUNDLE_BYTES = 250_000
GZIP_LEVEL = 6
DISTINCT_TEXTS = 200  # QR texts of distinct cards for figure 2
WARM_UP_RUNS = 20
SET_UP_TIMEOUT_MS = 600_000  # the first bundle of 622,000 cards signs its lists: minutes on 2 cores
SCAN_TIMEOUT_S = 30.0
REVOKED_SHARE = 0.05
REVOKE_CHUNK = 5_000  # cards per transaction

# Figure 2, in the page: the app's own modules (the same instances, served by the worker offline).
VERIFY_IN_PAGE = """async ({ texts, runs, warmUp }) => {
  const appUrl = document.querySelector('script[type="module"][src*="/js/scan/app.js"]').src;
  const verifier = await import(new URL("../lib/card-verifier.js", appUrl));
  const { Trust } = await import(new URL("./trust.js", appUrl));
  const config = document.getElementById("scan-app").dataset;
  const { jwksUrl, bundleUrl, publicBaseUrl } = config;
  const trust = new Trust({ jwksUrl, bundleUrl, publicBaseUrl });
  await trust.load();
  const materialMs = [];
  let material = null;
  for (let i = 0; i < 10; i += 1) {
    const started = performance.now();
    material = await trust.material();
    materialMs.push(performance.now() - started);
  }
  const options = () => ({
    publicBaseUrl: config.publicBaseUrl,
    keys: material.keys,
    statusList: material.statusList,
    offers: material.offers,
    now: trust.now(),
  });
  const verdicts = {};
  for (let i = 0; i < warmUp; i += 1) await verifier.verifyScan(texts[i % texts.length], options());
  const verifyMs = [];
  for (let i = 0; i < runs; i += 1) {
    const text = texts[i % texts.length];
    const settings = options();
    const started = performance.now();
    const outcome = await verifier.verifyScan(text, settings);
    verifyMs.push(performance.now() - started);
    const eligible = outcome.offers.filter((offer) => offer.eligible).length;
    const key = `${outcome.verdict} (${eligible} of ${outcome.offers.length} offers eligible)`;
    verdicts[key] = (verdicts[key] ?? 0) + 1;
  }
  return {
    materialMs,
    verifyMs,
    verdicts,
    problem: material.problem,
    offers: material.offers.length,
    bundleChars: trust.stored?.token?.length ?? 0,
    audience: trust.stored?.audience ?? null,
  };
}"""
VERDICT_MARKS = "performance.getEntriesByName('scan:verdict').length"
LAST_SCAN = """() => {
  const last = (name) => performance.getEntriesByName(name).at(-1) ?? null;
  const frame = last("scan:first-frame");
  const tap = last("bench:tap");
  const verdict = last("scan:verdict");
  return {
    frame: frame && frame.startTime,
    tap: tap && tap.startTime,
    verdict: verdict.startTime,
    detail: verdict.detail,
    offers: document.querySelectorAll("[data-verdict-screen] .offer-standing").length,
  };
}"""
TAP_SCAN_AGAIN = """() => {
  performance.mark("bench:tap");
  document.querySelector('[data-action="scan-again"]').click();
}"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=NATIONAL_ARTISANS, help="artisans to register, a card each")
    parser.add_argument("--scans", type=int, default=20, help="offline scans for figure 1 (each a page load)")
    parser.add_argument("--runs", type=int, default=500, help="verifications timed for figure 2")
    parser.add_argument(
        "--revoked-share", type=float, default=REVOKED_SHARE, help="share of the cards revoked before figures 1, 2, 4"
    )
    args = parser.parse_args()
    if min(args.cards, args.scans, args.runs) < 1:
        parser.error("--cards, --scans and --runs must be positive")
    if not 0 <= args.revoked_share < 1:
        parser.error("--revoked-share must be at least 0 and below 1")
    return args


# --- Set-up ------------------------------------------------------------------------------------------


@dataclass
class Agent:
    email: str
    password: str


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def create_agent(bench: BenchDatabase) -> Agent:
    """A counter agent of the demo transporter, with a password for the app's sign-in form."""
    agent = Agent("agent@bench.carte-artisan.ma", secrets.token_urlsafe(18))
    with bench.database.session_scope() as session:
        organisation = session.scalars(select(Organisation).where(Organisation.slug == DEMO_TRANSPORTER)).one()
        user = User(email=agent.email, display_name="Agent de guichet (bench)")
        user.role = Role.PARTNER_AGENT
        user.organisation = organisation
        user.set_password(agent.password)
        session.add(user)
    return agent


def last_card_token(bench: BenchDatabase) -> str:
    """The token of the card issued last: the densest QR code (see bench/_setup.py)."""
    with bench.engine.connect() as connection:
        return connection.scalar(select(Card.token).order_by(Card.status_index.desc()).limit(1)) or ""


def revoke_random_cards(bench: BenchDatabase, share: float, seed: int = 8) -> int:
    """Revoke `share` of the cards, drawn at random, with the lifecycle service (audit events, the
    register's version bumped); the card issued last, the one the camera films, is kept valid."""
    with bench.engine.connect() as connection:
        last = connection.scalar(select(func.max(Card.status_index))) or 0
    chosen = sorted(random.Random(seed).sample(range(last), int(share * (last + 1))))
    reasons = [RevocationReason.LOST, RevocationReason.STOLEN, RevocationReason.DECEASED, RevocationReason.LEFT_TRADE]
    for start in range(0, len(chosen), REVOKE_CHUNK):
        with bench.database.session_scope() as session:
            part = chosen[start : start + REVOKE_CHUNK]
            for card in session.scalars(select(Card).where(Card.status_index.in_(part))):
                revoke_card(session, card, reasons[card.status_index % len(reasons)], BENCH_ACTOR)
    return len(chosen)


def build_app(bench: BenchDatabase, base_url: str) -> Flask:
    return create_app(
        {
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": bench.url,
            "KEYS_DIR": str(bench.keys_dir),
            "PUBLIC_BASE_URL": base_url,
            "RATELIMIT_ENABLED": False,  # one client makes every request
        }
    )


@contextmanager
def serving(app: Flask, port: int) -> Iterator[str]:
    """The app on 127.0.0.1:port (Werkzeug, threaded) in a background thread; yields its base URL."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server(HOST, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- Figures 3 and 4: sizes ------------------------------------------------------------------------


def gzipped(body: bytes) -> int:
    return len(gzip.compress(body, GZIP_LEVEL))


def shell_table(app: Flask) -> tuple[list[tuple[str, int, int]], list[str], int]:
    """(url, bytes, gzip bytes) of each precached file but the wasm; the wasm urls left out; sw.js gzip."""
    client = app.test_client()
    worker = client.get("/scan/sw.js").get_data()
    match = re.search(rb"const PRECACHE = (\[.*?\]);", worker)
    if match is None:
        raise SystemExit("no PRECACHE list in /scan/sw.js: update bench/scan.py")
    rows, left_out = [], []
    for url in json.loads(match.group(1)):
        if url.endswith(".wasm"):
            left_out.append(url)
            continue
        response = client.get(url, headers={"Accept-Language": "fr"})
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        body = response.get_data()
        rows.append((url, len(body), gzipped(body)))
        response.close()
    return rows, left_out, gzipped(worker)


def language_fonts(app: Flask) -> dict[str, int]:
    """Per language, the gzip bytes of the fonts the worker keeps beyond the shell (LANGUAGE_FONTS)."""
    client = app.test_client()
    worker = client.get("/scan/sw.js").get_data()
    match = re.search(rb"const LANGUAGE_FONTS = (\{.*?\});", worker)
    sizes = {}
    for language, urls in json.loads(match.group(1) if match else b"{}").items():
        total = 0
        for url in urls:
            response = client.get(url)
            total += gzipped(response.get_data())
            response.close()
        sizes[language] = total
    return sizes


def payload_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def fetch_bundle(app: Flask, api_key: str) -> tuple[str, float]:
    """The transporter's bundle as its systems and staff get it, and the seconds the request took."""
    started = time.perf_counter()
    response = app.test_client().get("/api/v1/bundle", headers={"Authorization": f"Bearer {api_key}"})
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"/api/v1/bundle: HTTP {response.status_code} {response.get_data(as_text=True)[:200]}")
    return response.get_data(as_text=True), elapsed


# --- Figures 1 and 2: the app in Chromium --------------------------------------------------------


def wait_for(page: Any, expression: str, seconds: float, interval_ms: int = 50) -> None:
    """Poll with evaluate (the page's CSP forbids wait_for_function's string evaluation)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise SystemExit(f"still false after {seconds:.0f} s: {expression}")
        page.wait_for_timeout(interval_ms)


@dataclass
class BrowserFigures:
    cold_ms: list[float]
    warm_ms: list[float]
    wrong_verdicts: list[str]
    offers_shown: set[int]
    in_page: dict[str, Any]
    foreign: list[str]
    sign_in_seconds: float


def run_browser(base_url: str, agent: Agent, video: Path, texts: list[str], args: argparse.Namespace) -> BrowserFigures:
    from playwright.sync_api import sync_playwright

    foreign: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(f"{base_url}/"):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        try:
            context = browser.new_context(locale="fr-MA", **PHONE)
            context.set_default_timeout(SET_UP_TIMEOUT_MS)
            context.route("**/*", guard)
            page = context.new_page()

            # Online: sign in; the app fetches the transporter's bundle, its worker precaches the shell.
            started = time.perf_counter()
            page.goto(f"{base_url}/login?next=/scan/")
            page.fill("input[name=email]", agent.email)
            page.fill("input[name=password]", agent.password)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base_url}/scan/")
            page.locator('#scan-app[data-trust="ready"]').wait_for(state="attached")
            page.locator("[data-verdict-screen]").wait_for(state="visible")
            wait_for(page, "navigator.serviceWorker.controller !== null", SET_UP_TIMEOUT_MS / 1000)
            sign_in_seconds = time.perf_counter() - started
            context.set_offline(True)
            context.set_default_timeout(SCAN_TIMEOUT_S * 1000)

            wrong: list[str] = []
            offers_shown: set[int] = set()

            def record(scan: dict[str, Any], since: float) -> float:
                detail = scan["detail"] or {}
                if (detail.get("verdict"), detail.get("source")) != ("valid", "phone"):
                    wrong.append(f"{detail.get('verdict')} from {detail.get('source')}")
                offers_shown.add(scan["offers"])
                return scan["verdict"] - since

            # Figure 1: each scan a fresh page load (the worker serves it), camera and decoder started anew.
            cold = []
            for _ in range(args.scans):
                page.reload()
                wait_for(page, f"{VERDICT_MARKS} > 0", SCAN_TIMEOUT_S)
                scan = page.evaluate(LAST_SCAN)
                cold.append(record(scan, scan["frame"]))
            # Without a target: "scan another card" on the same page, camera running, decoder warm.
            warm = []
            for _ in range(args.scans):
                seen = page.evaluate(VERDICT_MARKS)
                page.evaluate(TAP_SCAN_AGAIN)
                wait_for(page, f"{VERDICT_MARKS} > {seen}", SCAN_TIMEOUT_S, interval_ms=20)
                scan = page.evaluate(LAST_SCAN)
                warm.append(record(scan, scan["tap"]))

            # Figure 2: verifyScan in the same offline page.
            in_page = page.evaluate(VERIFY_IN_PAGE, {"texts": texts, "runs": args.runs, "warmUp": WARM_UP_RUNS})
            context.close()
        finally:
            browser.close()
    return BrowserFigures(cold, warm, wrong, offers_shown, in_page, foreign, sign_in_seconds)


# --- Report ----------------------------------------------------------------------------------------


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def pass_or_miss(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def kb(size: int) -> str:
    return f"{size / 1000:,.1f} KB"


def main() -> None:
    args = parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
    with workspace() as directory:
        bench = build_database_with_cards(directory, args.cards)
        try:
            api_key = create_partner_with_key(bench, DEMO_TRANSPORTER)
            agent = create_agent(bench)
            port = free_port()
            app = build_app(bench, f"http://{HOST}:{port}")
            with serving(app, port) as base_url:
                fresh_bundle, bundle_seconds = fetch_bundle(app, api_key)
                print(f"setup: the transporter's bundle, every card in force, built in {bundle_seconds:.1f} s")
                bundle = fresh_bundle
                if args.revoked_share:
                    started = time.perf_counter()
                    revoked = revoke_random_cards(bench, args.revoked_share)
                    print(f"setup: revoked {revoked:,} cards at random in {time.perf_counter() - started:.1f} s")
                    bundle, bundle_seconds = fetch_bundle(app, api_key)  # also signs the lists the phone gets
                    print(f"setup: the transporter's bundle built again in {bundle_seconds:.1f} s")
                rows, left_out, worker_gzip = shell_table(app)
                extra_fonts = language_fonts(app)
                video = png_to_y4m(card_qr_png(base_url, last_card_token(bench)), directory / "card.y4m")
                texts = sample_qr_texts(bench, base_url, DISTINCT_TEXTS)
                figures = run_browser(base_url, agent, video, texts, args)
                print(f"setup: signed in, bundle stored, worker in control in {figures.sign_in_seconds:.1f} s")
        finally:
            bench.engine.dispose()
    report(args, figures, rows, left_out, worker_gzip, extra_fonts, bundle, fresh_bundle)


def report(
    args: argparse.Namespace,
    figures: BrowserFigures,
    rows: list[tuple[str, int, int]],
    left_out: list[str],
    worker_gzip: int,
    extra_fonts: dict[str, int],
    bundle: str,
    fresh_bundle: str,
) -> None:
    print()
    print(f"cards: {args.cards:,}; partner: the demo transporter ({DEMO_TRANSPORTER}); Chromium {CHROMIUM}")
    if figures.foreign:
        print(f"WARNING: {len(figures.foreign)} request(s) to another origin refused, e.g. {figures.foreign[0]}")
    if figures.wrong_verdicts:
        print(f"WARNING: scans that were not 'valid' on the phone: {figures.wrong_verdicts}")
    shown = ", ".join(str(count) for count in sorted(figures.offers_shown))
    print(f"every scan offline: verdict computed on the phone, offers on screen: {shown}")

    cold, warm = figures.cold_ms, figures.warm_ms
    print()
    print(f"1. camera to verdict, offline, {len(cold)} page loads (first frame -> verdict on screen):")
    print(
        f"   median {statistics.median(cold):,.0f} ms, p90 {p90(cold):,.0f} ms, min {min(cold):,.0f}, "
        f"max {max(cold):,.0f}; target median <= {TARGET_VERDICT_MS:,.0f} ms: "
        + pass_or_miss(statistics.median(cold) <= TARGET_VERDICT_MS)
    )
    print(
        f"   (no target) 'scan another card' -> verdict, camera running: median {statistics.median(warm):,.0f} ms, "
        f"p90 {p90(warm):,.0f} ms"
    )

    in_page = figures.in_page
    verify_ms, material_ms = in_page["verifyMs"], in_page["materialMs"]
    print()
    print(f"2. verification after decode (verifyScan), {len(verify_ms)} runs over {DISTINCT_TEXTS} cards' QR texts:")
    print(
        f"   median {statistics.median(verify_ms):.2f} ms, p90 {p90(verify_ms):.2f} ms, max {max(verify_ms):.2f} ms; "
        f"target median <= {TARGET_VERIFY_MS:.0f} ms: " + pass_or_miss(statistics.median(verify_ms) <= TARGET_VERIFY_MS)
    )
    outcomes = ", ".join(f"{count} {key}" for key, count in sorted(in_page["verdicts"].items()))
    print(f"   outcomes: {outcomes}")
    print(
        f"   (no target) reading the stored bundle (trust.material(), on every scan): "
        f"median {statistics.median(material_ms):.1f} ms, max {max(material_ms):.1f} ms"
        + (f"; problem: {in_page['problem']}" if in_page["problem"] else "")
    )

    total_raw = sum(raw for _url, raw, _gz in rows)
    total_gzip = sum(gz for _url, _raw, gz in rows)
    width = max(len(url) for url, _raw, _gz in rows)
    print()
    print(f"3. app shell, gzip level {GZIP_LEVEL}, {len(rows)} precached files (decoder wasm left out):")
    print(f"   {'file':<{width}}  {'bytes':>9}  {'gzip':>9}")
    for url, raw, gz in sorted(rows, key=lambda row: -row[2]):
        print(f"   {url:<{width}}  {raw:>9,}  {gz:>9,}")
    print(f"   {'total':<{width}}  {total_raw:>9,}  {total_gzip:>9,}")
    fonts = sum(gz for url, _raw, gz in rows if url.endswith(".woff2"))
    print(
        f"   total {kb(total_gzip)}, target <= {kb(TARGET_SHELL_BYTES)}: "
        + pass_or_miss(total_gzip <= TARGET_SHELL_BYTES)
        + f"  (fonts {kb(fonts)}, everything else {kb(total_gzip - fonts)})"
    )
    print(f"   left out: {', '.join(left_out)}; not precached: /scan/sw.js itself, {worker_gzip:,} bytes gzip")
    for language, extra in extra_fonts.items():
        print(f"   (no target) kept by the worker for a reader in {language}, beyond the shell: {kb(extra)} of fonts")

    payload = payload_of(bundle)
    size = gzipped(bundle.encode("ascii"))
    print()
    print(
        f"4. trust bundle of {DEMO_TRANSPORTER} at {args.cards:,} cards, {args.revoked_share:.0%} of them revoked "
        f"at random, gzip level {GZIP_LEVEL}:"
    )
    print(
        f"   {len(bundle):,} bytes, {size:,} gzip ({kb(size)}), target <= {kb(TARGET_BUNDLE_BYTES)}"
        f" at {NATIONAL_ARTISANS:,} cards: {pass_or_miss(size <= TARGET_BUNDLE_BYTES)}"
        + ("" if args.cards == NATIONAL_ARTISANS else f" (measured at {args.cards:,} cards, not the target's size)")
    )
    parts = [f"status list {len(payload['status_list']):,}"]
    parts += [f"offer {offer['id']} eligibility {len(offer['eligibility']):,}" for offer in payload["offers"]]
    print(f"   audience {payload['aud']}; inside (characters): {', '.join(parts)}")
    print(f"   the phone stored a bundle of {figures.in_page['bundleChars']:,} characters")
    if args.revoked_share:
        print(
            f"   (no target) every card in force: {len(fresh_bundle):,} bytes, "
            f"{gzipped(fresh_bundle.encode('ascii')):,} gzip"
        )


if __name__ == "__main__":
    main()

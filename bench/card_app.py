"""Benchmark: the artisan's card app (/card) opened OFFLINE, from a tap on its icon to a live QR on
screen; and what its shell weighs.

1. Offline open to QR. A demo artisan activates their card in headless Chromium (phone-sized, 360x740):
   the activation page makes the phone's key, the app stores the card, its holder-bound token and
   the key in IndexedDB and its worker precaches the shell. Then the network is cut
   (context.set_offline(True)) and the app is opened --runs times (page.goto /card/, as a tap on
   the installed icon does). Timed in the page: from the navigation's start (performance timeOrigin)
   to the mark "card-qr-drawn" (static/js/card/app.js: right after the first live QR is drawn on
   its canvas; the paint follows within a frame). That includes the worker answering the page and
   its files from its cache, reading IndexedDB, signing T.W with the non-extractable key (WebCrypto)
   and encoding the QR (lean-qr). Target: median <= 1 s (p90 printed).
2. The QR's version for the artisan's name (the contract: <= 20, ECC M).
3. Shell transfer: every file /card/sw.js precaches, gzip level 6, summed (printed; no target).

Set-up in a temporary directory: bench/_setup.py (SQLite, migrations, reference data, one key), one
artisan with a card (a 40-letter name: the densest QR) and an activation code, the app served by
Werkzeug in a thread of this process, Debian's Chromium driven by Playwright.

Run (from the project root):  .venv/bin/python bench/card_app.py [--runs 20]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import socket
import statistics
import sys
import urllib.request
from datetime import date
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import BENCH_ACTOR, prepare_database, workspace
from bench.scan import build_app, serving
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE
from webapp.models import Artisan, CnssStatus, Gender, LegalStatus
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.activation import ActivationPolicy, issue_activation_code
from webapp.settings import current_settings

TARGET_MS = 1000
LONG_NAME = ("Abderrahmane", "Ait Lahcen Oubella Ouazzani")  # 40 characters with the space


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()

    with workspace() as directory:
        bench = prepare_database(directory)
        port = free_port()
        app = build_app(bench, f"http://127.0.0.1:{port}")
        with bench.database.session_scope() as session:
            artisan = Artisan(
                rna_number="RNA-BENCH-0000001",
                cin="BE123456",
                first_name_latin=LONG_NAME[0],
                last_name_latin=LONG_NAME[1],
                first_name_ar="عبد الرحمن",
                last_name_ar="أيت لحسن أوبلة الوزاني",
                birth_date=date(1980, 5, 17),
                gender=Gender.MALE,
                region_code="03",
                province="Fès",
                trade_code="ZEL",
                legal_status=LegalStatus.INDEPENDENT,
                cnss_status=CnssStatus.REGISTERED,
                activity_start_year=2001,
            )
            session.add(artisan)
            session.flush()
            card = card_service.issue_card(session, artisan, bench.signer, BENCH_ACTOR, validity_years=5)
            code = issue_activation_code(
                session, card, BENCH_ACTOR, ActivationPolicy.from_settings(current_settings(app))
            )
            number = card.number
        with serving(app, port) as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(locale="fr-MA", **PHONE)
            page = context.new_page()
            page.goto(f"{base_url}/card/activate")
            page.fill("input[name=card_number]", number)
            page.fill("input[name=code]", code)
            page.fill("input[name=birth_date]", "17/05/1980")
            page.fill("input[name=password]", "tajine bleu de fes")
            page.click("button[type=submit]")
            page.wait_for_url(f"{base_url}/card/")
            page.wait_for_selector("#card-app[data-window]")
            # Polled with evaluate: wait_for_function evaluates a string, which the page's CSP refuses.
            while not page.evaluate("navigator.serviceWorker.controller !== null"):
                page.wait_for_timeout(100)
            version = int(page.get_attribute("#card-app", "data-qr-version"))
            worker = urllib.request.urlopen(f"{base_url}/card/sw.js").read().decode()
            precache = json.loads(re.search(r"^const PRECACHE = (\[.*\]);$", worker, re.MULTILINE).group(1))
            context.set_offline(True)
            times = []
            for _ in range(options.runs):
                page.goto(f"{base_url}/card/")
                page.wait_for_selector("#card-app[data-window]")
                times.append(page.evaluate("performance.getEntriesByName('card-qr-drawn')[0].startTime"))
            context.set_offline(False)
            browser.close()
            sizes = {url: len(gzip.compress(urllib.request.urlopen(base_url + url).read(), 6)) for url in precache}
    times.sort()
    median = statistics.median(times)
    p90 = times[max(0, round(0.9 * len(times)) - 1)]
    print(
        f"1. offline open to live QR on screen: median {median:.0f} ms, p90 {p90:.0f} ms over {len(times)} opens "
        f"(target median <= {TARGET_MS} ms): {'PASS' if median <= TARGET_MS else 'MISS'}"
    )
    print(
        f"2. live QR version for a 40-character name: {version} (contract <= 20, ECC M): "
        f"{'PASS' if version <= 20 else 'MISS'}"
    )
    print(f"3. shell transfer (gzip 6): {sum(sizes.values()) / 1024:.1f} KB over {len(sizes)} files")
    for url, size in sorted(sizes.items(), key=lambda item: -item[1]):
        print(f"   {size / 1024:7.1f} KB  {url}")


if __name__ == "__main__":
    main()

"""Benchmark: the offer form's rule preview (POST /partner/offers/preview) on a national register.

What it measures: the wall-clock time of webapp.services.partners.eligibility.count_admitted, the
count of valid cards a rule admits today, for rules of the kinds the condition editor writes (none,
region and years of activity, a programme, the demo lender's) and for one reading a card's dates;
the slowest of a few rounds for each is judged. Target: <= 1 s for 622,000 artisans with cards
(a manager waits for it while typing; a smaller register must meet it too). A rule outside the
editor's subset (here one reading card.expires, evaluated by groups) is printed for information.
Each count is checked against eligible_indices (the eligibility list's evaluation) for an offer
with the same rule.

Set-up (timed and printed, not counted): bench/_setup.py's builder (a fresh SQLite database or
--database-url, migrations, reference data, N artisans with demo-like attributes, a card each).

Run (from the project root):
  .venv/bin/python bench/rule_preview.py                      # 622,000 artisans, SQLite
  .venv/bin/python bench/rule_preview.py --artisans 100000    # quicker
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import NATIONAL_ARTISANS, build_database_with_cards, workspace
from webapp.models import Offer, OfferState
from webapp.services.partners.eligibility import count_admitted, eligible_indices
from webapp.services.partners.rules import moroccan_today

TARGET_SECONDS = 1.0  # for NATIONAL_ARTISANS


def _label(text: str) -> dict[str, str]:
    return {"fr": text, "ar": text, "en": text}


YEARS = {"-": [{"year": {"var": "today"}}, {"var": "artisan.activity_start_year"}]}
RULES: dict[str, list[dict[str, Any]]] = {
    "none": [],
    "region and years": [
        {"label": _label("Fès-Meknès"), "logic": {"==": [{"var": "card.region"}, "03"]}},
        {"label": _label("2 years"), "logic": {">=": [YEARS, 2]}},
    ],
    "programme": [{"label": _label("Women"), "logic": {"in": ["WOMEN", {"var": "artisan.programmes"}]}}],
    "lender": [
        {"label": _label("CNSS"), "logic": {"==": [{"var": "artisan.cnss_status"}, "registered"]}},
        {"label": _label("2 years"), "logic": {">=": [YEARS, 2]}},
        {"label": _label("Trades"), "logic": {"in": [{"var": "card.trade"}, ["ZEL", "TAP", "POT", "DIN"]]}},
    ],
}
DATE_RULE = [
    {
        "label": _label("30 more days"),
        "logic": {">": [{"days_between": [{"var": "today"}, {"var": "card.expires"}]}, 30]},
    }
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artisans", type=int, default=NATIONAL_ARTISANS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url")
    parser.add_argument("--drop-existing", action="store_true")
    arguments = parser.parse_args()
    target = TARGET_SECONDS  # a smaller register must meet it too
    failures = 0
    with workspace() as directory:
        bench = build_database_with_cards(
            directory, arguments.artisans, database_url=arguments.database_url, drop_existing=arguments.drop_existing
        )
        with bench.database.session_scope() as session:
            for name, rule in [*RULES.items(), ("card expiry (information)", DATE_RULE)]:
                times = []
                for _round in range(arguments.rounds):
                    started = time.perf_counter()
                    counted = count_admitted(session, rule)
                    times.append(time.perf_counter() - started)
                offer = Offer(
                    organisation_id=None,
                    conditions=rule,
                    state=OfferState.APPROVED,
                    valid_from=moroccan_today(),
                )
                started = time.perf_counter()
                listed = len(eligible_indices(session, offer))
                list_time = time.perf_counter() - started
                judged = name in RULES
                ok = counted.admitted == listed and (max(times) <= target or not judged)
                failures += not ok
                print(
                    f"{name:28} admitted {counted.admitted:>9,} of {counted.valid_cards:,}: "
                    f"slowest {max(times):.2f} s (target {target:.2f} s{'' if judged else ', not judged'}); "
                    f"the list's evaluation {list_time:.2f} s, {listed:,} cards {'OK' if ok else 'FAIL'}"
                )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

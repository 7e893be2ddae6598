"""Benchmark: evaluating offer eligibility rules (webapp/services/partners/rules.py).

What it measures, for the rules of the demo partner kinds in docs/offers.md (transporter, fair
organiser, lender, training body): the microseconds per `Rule.holds(facts)` and per
`Rule.failed(facts)` (the facts handed over, the compiled conditions evaluated by datalogic-py),
and per `parse_rule` (checking and compiling, done once per offer, not per card). Best of 5 runs.

Run (from the project root):
  .venv/bin/python bench/rules.py
  .venv/bin/python bench/rules.py --number 50000
"""

from __future__ import annotations

import argparse
import sys
import timeit
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webapp.services.partners.rules import parse_rule


def label(text: str) -> dict[str, str]:
    return {"fr": text, "ar": text, "en": text}


RULES = {
    "transporter": [],
    "fair organiser": [
        {"label": label("Région 03"), "logic": {"==": [{"var": "card.region"}, "03"]}},
        {"label": label("Métiers"), "logic": {"in": [{"var": "card.trade"}, ["ZEL", "TAP", "POT", "DIN"]]}},
    ],
    "lender": [
        {"label": label("CNSS"), "logic": {"==": [{"var": "artisan.cnss_status"}, "registered"]}},
        {
            "label": label("2 ans"),
            "logic": {">=": [{"-": [{"year": {"var": "today"}}, {"var": "artisan.activity_start_year"}]}, 2]},
        },
    ],
    "training body": [
        {
            "label": label("Femmes"),
            "logic": {
                "or": [{"==": [{"var": "artisan.gender"}, "female"]}, {"in": ["WOMEN", {"var": "artisan.programmes"}]}]
            },
        }
    ],
}
FACTS = {
    "card.status": "active",
    "card.trade": "ZEL",
    "card.sector": "ART",
    "card.region": "03",
    "card.expires": date(2027, 6, 30),
    "card.issued": date(2025, 1, 15),
    "artisan.legal_status": "independent",
    "artisan.cnss_status": "registered",
    "artisan.gender": "female",
    "artisan.programmes": ["EXCELLENCE"],
    "artisan.activity_start_year": 2019,
    "artisan.cooperative_member": False,
    "today": date(2026, 3, 1),
}


def microseconds(function, number: int) -> float:
    return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--number", type=int, default=20_000, help="evaluations per run (default 20,000)")
    number = parser.parse_args().number
    print(f"{'offer':<16}{'conditions':>11}{'holds µs':>10}{'failed µs':>11}{'parse µs':>10}")
    for name, raw in RULES.items():
        rule = parse_rule(raw)
        holds = microseconds(lambda rule=rule: rule.holds(FACTS), number)
        failed = microseconds(lambda rule=rule: rule.failed(FACTS), number)
        parse = microseconds(lambda raw=raw: parse_rule(raw), max(number // 20, 1))
        print(f"{name:<16}{len(rule):>11}{holds:>10.2f}{failed:>11.2f}{parse:>10.1f}")


if __name__ == "__main__":
    main()

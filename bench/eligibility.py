"""Benchmark: build the signed eligibility list of the lender's offer for the national register.

What it measures: the wall-clock time of webapp.services.partners.eligibility.current_eligibility_list
for an approved offer with the demo lender's rule (docs/offers.md: CNSS registered and at least 2
years of activity), when the list is stale and must be rebuilt: the register query (active cards in
force, with the columns the rule reads), one rule evaluation per distinct combination of values,
the 1-bit packing, zlib and the ES256 signature. Targets: <= 10 s and a signed list <= 100 KB for
622,000 artisans with cards. Each round forces a rebuild (the offer's version is bumped); the
slowest round is judged. The eligible count is printed and checked twice: against the same rule
written as SQL, and against the bits of the list decoded here (base64url, zlib), not by the app.

Set-up (timed and printed, not counted), in a temporary directory: bench/_setup.py's builder (a
fresh SQLite database or --database-url, Alembic migrations, reference data, one ES256 key, N
artisans with demo-like attributes, a card for each with the roll-out service), then a lender
organisation and its offer, created and approved with the offers service.

Run (from the project root):
  .venv/bin/python bench/eligibility.py                      # 622,000 artisans, SQLite
  .venv/bin/python bench/eligibility.py --artisans 50000     # quicker; the time target is scaled
  .venv/bin/python bench/eligibility.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test --drop-existing
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import sys
import time
import zlib
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from bench._setup import (
    BENCH_ACTOR,
    DEFAULT_PUBLIC_BASE_URL,
    NATIONAL_ARTISANS,
    BenchDatabase,
    build_database_with_cards,
    workspace,
)
from webapp.models import Artisan, Card, CardStatus, CnssStatus, Offer, Organisation, utcnow
from webapp.models.partner import LENDER
from webapp.services.partners.eligibility import current_eligibility_list
from webapp.services.partners.offers import OfferDraft, change_offer_state, create_offer
from webapp.services.partners.rules import moroccan_today

TARGET_SECONDS = 10.0  # for NATIONAL_ARTISANS on 2 cores
TARGET_BYTES = 100_000
_DEFAULTS = {"validity": timedelta(hours=24), "ttl_seconds": 3600}
LENDER_RULE = [
    {
        "label": {"fr": "Inscrit à la CNSS", "ar": "مسجل في الضمان الاجتماعي", "en": "CNSS registered"},
        "logic": {"==": [{"var": "artisan.cnss_status"}, "registered"]},
    },
    {
        "label": {
            "fr": "Au moins 2 ans d’activité",
            "ar": "سنتان من النشاط على الأقل",
            "en": "At least 2 years of activity",
        },
        "logic": {">=": [{"-": [{"year": {"var": "today"}}, {"var": "artisan.activity_start_year"}]}, 2]},
    },
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artisans", type=int, default=NATIONAL_ARTISANS, help="artisans to register, with cards")
    parser.add_argument("--rounds", type=int, default=3, help="rebuilds of the list (the slowest is judged)")
    parser.add_argument("--database-url", help="a database to use instead of a temporary SQLite file")
    parser.add_argument("--drop-existing", action="store_true", help="drop the tables of --database-url first")
    parser.add_argument("--public-base-url", default=DEFAULT_PUBLIC_BASE_URL, help="the list's subject URL prefix")
    args = parser.parse_args()
    if args.artisans < 1 or args.rounds < 1:
        parser.error("--artisans and --rounds must be positive")
    return args


def lender_offer(bench: BenchDatabase) -> int:
    """The demo lender and its approved offer; returns the offer's id."""
    with bench.database.session_scope() as session:
        lender = Organisation(slug="credit-artisan", name="Crédit Artisan (bench)", kind_code=LENDER)
        session.add(lender)
        draft = OfferDraft(
            name={"fr": "Micro-crédit artisan", "ar": "قرض صغير للصانع", "en": "Artisan micro-credit"},
            benefit={"fr": "Taux préférentiel", "ar": "سعر تفضيلي", "en": "Preferential rate"},
            valid_from=moroccan_today() - timedelta(days=30),
            conditions=LENDER_RULE,
        )
        offer = create_offer(session, lender, draft, BENCH_ACTOR)
        change_offer_state(session, offer, "submit", BENCH_ACTOR)
        change_offer_state(session, offer, "approve", BENCH_ACTOR)
        return offer.id


def expected_count(bench: BenchDatabase) -> int:
    """The lender's rule written as SQL, to check the list's count against something else."""
    now = utcnow()
    latest_start = moroccan_today(now).year - 2
    query = (
        select(func.count())
        .select_from(Card)
        .join(Artisan, Artisan.id == Card.artisan_id)
        .where(
            Card.status == CardStatus.ACTIVE,
            Card.expires_at > now,
            Artisan.cnss_status == CnssStatus.REGISTERED,
            Artisan.activity_start_year <= latest_start,
        )
    )
    with bench.engine.connect() as connection:
        return connection.scalar(query) or 0


def bits_set(token: str) -> int:
    """The eligible bits of a signed list, read without the app's readers."""
    payload_part = token.split(".")[1]
    payload = json.loads(base64.urlsafe_b64decode(payload_part + "=" * (-len(payload_part) % 4)))
    lst = payload["status_list"]["lst"]
    packed = zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))
    return sum(bin(byte).count("1") for byte in packed)


def main() -> None:
    args = parse_args()
    with workspace() as directory:
        bench = build_database_with_cards(
            directory, args.artisans, database_url=args.database_url, drop_existing=args.drop_existing
        )
        try:
            offer_id = lender_offer(bench)
            timings = []
            for _round in range(args.rounds):
                with bench.database.session_scope() as session:
                    offer = session.get(Offer, offer_id)
                    assert offer is not None
                    offer.version += 1  # what any change to the offer does: the list is stale
                    session.flush()
                    started = time.perf_counter()
                    state = current_eligibility_list(
                        session,
                        offer,
                        bench.signer,
                        public_base_url=args.public_base_url,
                        validity=_DEFAULTS["validity"],
                        ttl_seconds=_DEFAULTS["ttl_seconds"],
                    )
                    timings.append(time.perf_counter() - started)
                    token, eligible = state.signed_token, state.eligible_count
            slowest = max(timings)
            target = TARGET_SECONDS * args.artisans / NATIONAL_ARTISANS
            lst = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==="))["status_list"]["lst"]
            sql_count, bit_count = expected_count(bench), bits_set(token)
            print()
            print(f"artisans with cards: {args.artisans:,}")
            print("offer:               the lender's (CNSS registered, at least 2 years of activity)")
            print(f"eligible:            {eligible:,} ({eligible / args.artisans:.1%})")
            print(
                f"check:               SQL count {sql_count:,}, bits set in the decoded list {bit_count:,}: "
                + ("agree" if sql_count == bit_count == eligible else "DISAGREE")
            )
            rounds = ", ".join(f"{seconds:.2f}" for seconds in timings)
            print(f"build:               {rounds} s (slowest {slowest:.2f} s)")
            print(
                f"time target:         <= {TARGET_SECONDS:.0f} s for {NATIONAL_ARTISANS:,}"
                + (f" (scaled: <= {target:.2f} s)" if args.artisans != NATIONAL_ARTISANS else "")
                + f": {'PASS' if slowest <= target else 'MISS'}"
            )
            print(
                f"list size:           {len(token):,} bytes signed (lst {len(lst):,} chars base64url of "
                f"{len(base64.urlsafe_b64decode(lst + '===')):,} bytes zlib), target <= {TARGET_BYTES:,}: "
                + ("PASS" if len(token) <= TARGET_BYTES else "MISS")
            )
            print(f"over HTTP:           {len(gzip.compress(token.encode('ascii'), 6)):,} bytes with gzip")
        finally:
            bench.engine.dispose()


if __name__ == "__main__":
    main()

"""Make docs/audit-trail-vectors.json (docs/audit-trail.md, "Test vectors").

    python docs/make_audit_trail_vectors.py          (from the repository root)

The canonical content is built here by hand (the 14 hashed columns and "v", json.dumps with sorted
keys, compact, UTF-8), not by the server's code, so that a mistake in one shows up against the
other: tests/services/audit/test_chain.py checks the server's encoder and hash against the file,
and that this script gives the file byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
GENESIS = "0" * 64
_OPTIONAL = ("signing_key_id", "card_id", "artisan_id", "organisation_id", "offer_id", "account_id", "reason")
_EMPTY = dict.fromkeys((*_OPTIONAL, "before", "after"))
EVENTS: list[dict[str, Any]] = [
    _EMPTY
    | {
        "seq": 1,
        "occurred_at": "2026-12-07T09:00:00.000000Z",
        "actor": "cli:root",
        "actor_user_id": None,
        "action": "key.generate",
        "signing_key_id": "zI7F3h",
    },
    _EMPTY
    | {
        "seq": 2,
        "occurred_at": "2026-12-07T09:15:30.250000Z",
        "actor": "user:12",
        "actor_user_id": 12,
        "action": "card.issue",
        "card_id": 7,
        "artisan_id": 41,
        "after": {
            "number": "26JJ8HG778",
            "status": "active",
            "expires_at": "2031-12-07T09:15:30.250000+00:00",
            "key_id": "zI7F3h",
        },
    },
    _EMPTY
    | {
        "seq": 3,
        "occurred_at": "2026-12-07T10:02:11.000001Z",
        "actor": "user:12",
        "actor_user_id": 12,
        "action": "card.suspend",
        "card_id": 7,
        "artisan_id": 41,
        "reason": "enquête — تحقيق",
        "before": {"status": "active"},
        "after": {"status": "suspended", "status_reason": "enquête — تحقيق"},
    },
]


def vectors() -> dict[str, Any]:
    previous, out = GENESIS, []
    for event in EVENTS:
        canonical = json.dumps(event | {"v": 1}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        previous = hashlib.sha256(bytes.fromhex(previous) + canonical.encode("utf-8")).hexdigest()
        out.append({"event": event, "canonical": canonical, "chain_hash": previous})
    return {
        "description": (
            "Audit trail test vectors (docs/audit-trail.md): each event's columns, its canonical content "
            "(UTF-8) and its chain hash; the first event chains from 64 zeros."
        ),
        "genesis": GENESIS,
        "vectors": out,
    }


def render() -> str:
    return json.dumps(vectors(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    (DOCS / "audit-trail-vectors.json").write_text(render(), encoding="utf-8")

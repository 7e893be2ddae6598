"""CLI fixtures: a demo register seeded through the commands, and a helper that runs one command."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskCliRunner

from tests.conftest import TEST_ACTOR
from webapp.models import Card, RevocationReason, utcnow
from webapp.services.cards import lifecycle as card_service


def run(runner: FlaskCliRunner, *args: str) -> tuple[int, str]:
    """Exit status and everything printed (standard output and error) of one command."""
    result = runner.invoke(args=list(args))
    return result.exit_code, result.output


@pytest.fixture
def seeded(runner, session):
    """A signing key and 30 demo artisans with their cards (some revoked, suspended, expired)."""
    assert run(runner, "keys", "generate")[0] == 0
    code, output = run(runner, "demo", "seed", "--artisans", "30")
    assert code == 0, output
    return output


@pytest.fixture
def cards_by_state(session, make_card) -> dict[str, Card]:
    """One committed card in each state a verifier tells apart: active, suspended, revoked, expired."""
    cards = {
        "active": make_card(),
        "suspended": make_card(),
        "revoked": make_card(),
        "expired": make_card(now=utcnow() - timedelta(days=6 * 366)),
    }
    card_service.suspend_card(session, cards["suspended"], "inquiry", TEST_ACTOR)
    card_service.revoke_card(session, cards["revoked"], RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    return cards

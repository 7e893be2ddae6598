"""CLI fixtures: a demo register seeded through the commands, and a helper that runs one command."""

from __future__ import annotations

import pytest
from flask.testing import FlaskCliRunner


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

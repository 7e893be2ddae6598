"""`cards purge-checks`: deletes the card checks and anonymous counts past the retention period."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import AnonymousCheckCount, CardCheck, CheckKind, utcnow
from webapp.services.cards.checks import Checker, note_check


@pytest.mark.parametrize("batch_size", ["1", "5000"])
def test_purge_checks_deletes_old_rows_in_batches(app, runner, session, make_card, make_organisation, batch_size):
    """Rows older than CARD_CHECK_RETENTION_MONTHS go, whatever the batch size; recent ones stay."""
    card, organisation = make_card(), make_organisation()
    now = utcnow()
    with app.extensions["database"].engine.connect() as connection:
        for days in (1, 380, 390, 400):
            note_check(
                connection, card.number, Checker(organisation.id, CheckKind.STAFF_SCAN), now - timedelta(days=days)
            )
        for days in (0, 800):
            note_check(connection, card.number, None, now - timedelta(days=days))
    result = runner.invoke(args=["cards", "purge-checks", "--batch-size", batch_size])
    assert result.exit_code == 0, result.output
    assert "4 card check rows older than 12 months deleted." in result.output
    assert session.scalar(select(func.count()).select_from(CardCheck)) == 1
    assert session.scalar(select(func.count()).select_from(AnonymousCheckCount)) == 1


@pytest.mark.parametrize("batch_size", ["0", "-1", "abc", "100001"])
def test_purge_checks_refuses_a_bad_batch_size(runner, batch_size):
    """A batch size outside 1-100,000 is refused before anything is deleted."""
    result = runner.invoke(args=["cards", "purge-checks", "--batch-size", batch_size])
    assert result.exit_code == 2 and "batch-size" in result.output

"""Checks and redemptions that card holders reported as "this was not me" (issue 15, part 5), for
the officers of the holders' region (administrators: every region), newest report first."""

from __future__ import annotations

from flask import render_template

from webapp.access import current_scope
from webapp.backoffice.views import blueprint
from webapp.db import get_session
from webapp.services.cards.checks import (
    count_reported_checks,
    count_reported_redemptions,
    reported_checks,
    reported_redemptions,
)

SHOWN = 100


@blueprint.get("/reported-checks")
def reported_checks_page() -> str:
    session, scope = get_session(), current_scope()
    return render_template(
        "backoffice/reported_checks.html",
        reported=reported_checks(session, scope, limit=SHOWN),
        total=count_reported_checks(session, scope),
        redemptions=reported_redemptions(session, scope, limit=SHOWN),
        redemptions_total=count_reported_redemptions(session, scope),
    )

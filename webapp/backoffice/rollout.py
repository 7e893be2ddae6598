"""Cards for a region's artisans who have none (issue 16): an officer (their own region) or an
administrator (the region they choose) sees how many artisans have no card in force, confirms,
and a `cards_issue_all` job issues them (webapp/services/jobs/rollout.py); the answer leads to
the job's page, where its progress shows. An officer's job is always their own region's: the
region sent in the form is read for administrators only."""

from __future__ import annotations

from flask import redirect, render_template, request
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from webapp.access import current_actor, current_scope
from webapp.backoffice.views import blueprint
from webapp.db import get_session
from webapp.i18n import current_language
from webapp.models import ACTIVE_STATES, Job, Region
from webapp.services.cards.rollout import count_holders_without_card
from webapp.services.jobs.rollout import ISSUE_ALL, submit_issue_all
from webapp.services.register.reference_data import region_name


class IssueMissingCardsForm(FlaskForm):
    """Empty: the confirmation button, with its CSRF token (the region is a hidden field for admins)."""


def job_url(job_id: int) -> str:
    """The job's page in the back office (progress, result, cancel)."""
    return f"/office/jobs/{job_id}"


def _chosen_region(session: Session) -> str | None:
    """An officer's own region; for an administrator, a region they named (None until they do)."""
    scope = current_scope()
    if scope.region_code is not None:
        return scope.region_code
    code = request.values.get("region", "")
    return code if session.get(Region, code) is not None else None


def _under_way(session: Session, region_code: str) -> Job | None:
    """The region's issuing job still queued or running, if any (submitting again would return it)."""
    return session.scalar(
        select(Job).where(
            Job.kind == ISSUE_ALL, Job.region_code == region_code, Job.state.in_(ACTIVE_STATES), Job.parent_id.is_(None)
        )
    )


@blueprint.route("/cards/issue-missing", methods=["GET", "POST"])
def issue_missing_cards() -> Response | str:
    """How many artisans of the region have no card in force; confirm, and a job issues them."""
    session = get_session()
    region = _chosen_region(session)
    form = IssueMissingCardsForm()
    if region is not None and form.validate_on_submit():
        job = submit_issue_all(session, current_actor(), region_code=region)
        return redirect(job_url(job.id))
    language = current_language()
    regions = [] if current_scope().region_code else list(session.scalars(select(Region).order_by(Region.code)))
    under_way = _under_way(session, region) if region else None
    return render_template(
        "backoffice/cards/issue_missing.html",
        form=form,
        region=region,
        region_label=region_name(region, language) if region else None,
        regions=[(row.code, region_name(row.code, language)) for row in regions],
        missing=count_holders_without_card(session, region) if region else None,
        under_way=under_way,
        job_url=job_url,
    )

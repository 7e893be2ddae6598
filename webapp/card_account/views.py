"""Views of the artisan's own card pages: parse, call a service, render. Each reads only the
signed-in artisan's own record (User.artisan_id): there is no card number in any URL, so no other
holder's card can be named."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from webapp import formats
from webapp.access import current_actor, restrict_blueprint
from webapp.db import get_session
from webapp.models import Role, utcnow
from webapp.services.cards.checks import check_history, report_check, report_redemption
from webapp.services.partners.holder_offers import holder_card, offers_for_holder
from webapp.settings import current_settings

blueprint = Blueprint("card_account", __name__, url_prefix="/card")
restrict_blueprint(blueprint, Role.ARTISAN)


class ReportForm(FlaskForm):
    """ "This was not me": only the CSRF token (the check or redemption is in the URL)."""


def _month_name(month: str) -> str:
    """ "2026-12" as the month's name and year in the user's language."""
    year, number = month.split("-")
    return formats.month(date(int(year), int(number), 1))


@blueprint.get("/offers")
def offers() -> str:
    """The offers the artisan's card unlocks today, and those it does not with the reason."""
    standing = offers_for_holder(get_session(), current_user.artisan_id, utcnow())
    return render_template("card/offers.html", standing=standing, section="offers")


@blueprint.get("/checks")
def checks() -> str:
    """Who checked the artisan's card: partners' checks and redemptions, and the anonymous
    checks counted per month, over the retention period."""
    session = get_session()
    months = current_settings().CARD_CHECK_RETENTION_MONTHS
    history = check_history(session, current_user.artisan_id, utcnow(), months)
    return render_template(
        "card/checks.html",
        history=history,
        card=holder_card(session, current_user.artisan_id),
        retention_months=months,
        anonymous=[(_month_name(month), count) for month, count in history.anonymous],
        report_form=ReportForm(),
        section="checks",
    )


@blueprint.post("/checks/<int:check_id>/report")
def report(check_id: int) -> Response:
    """Mark one of the card's checks "this was not me" (audited); the chamber follows it up."""
    form = ReportForm()
    if not form.validate_on_submit():
        flash(_("The form expired: please try again."), "error")
        return redirect(url_for("card_account.checks"))
    report_check(get_session(), current_user.artisan_id, check_id, current_user.id, current_actor())
    flash(_("Thank you: the check is reported. Your chamber of handicraft will look into it."), "success")
    return redirect(url_for("card_account.checks"))


@blueprint.post("/redemptions/<int:redemption_id>/report")
def report_redemption_view(redemption_id: int) -> Response:
    """Mark one use of an offer with the card "this was not me" (audited); the chamber follows it up."""
    form = ReportForm()
    if not form.validate_on_submit():
        flash(_("The form expired: please try again."), "error")
        return redirect(url_for("card_account.checks"))
    report_redemption(get_session(), current_user.artisan_id, redemption_id, current_user.id, current_actor())
    flash(_("Thank you: the use of your card is reported. Your chamber of handicraft will look into it."), "success")
    return redirect(url_for("card_account.checks"))

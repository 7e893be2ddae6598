"""Partner portal views: parse, call a service, render. Every query is scoped to the signed-in
person's organisation (another partner's record answers 404, like a missing one)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from webapp.access import current_scope, restrict_blueprint, roles_required
from webapp.db import get_session
from webapp.models import PARTNER_ROLES, Offer, QuotaPeriod, Role
from webapp.partner.forms import ActionForm
from webapp.services.audit import Actor
from webapp.services.partners import offers as offer_service
from webapp.services.partners.api_keys import list_api_keys
from webapp.services.partners.organisations import list_staff
from webapp.services.partners.reports import RedemptionFilter, count_redemptions, list_redemptions

blueprint = Blueprint("partner", __name__, url_prefix="/partner")
restrict_blueprint(blueprint, *PARTNER_ROLES)
manager_only = roles_required(Role.PARTNER_MANAGER)

RECENT = 20


def actor() -> Actor:
    return Actor(f"user:{current_user.id}", current_user.id)


@blueprint.get("/")
def home() -> str:
    """Managers: the organisation at a glance; agents: the redemptions they recorded lately."""
    session = get_session()
    mine = RedemptionFilter(recorded_by_user_id=current_user.id)
    context = {
        "recent": list_redemptions(session, current_scope(), mine, limit=RECENT),
        "my_count": count_redemptions(session, current_scope(), mine),
    }
    if current_user.role == Role.PARTNER_MANAGER:
        context["offers"] = offer_service.list_offers(session, current_scope())
        context["total"] = count_redemptions(session, current_scope(), RedemptionFilter())
    return render_template("partner/home.html", **context)


@blueprint.get("/offers")
@manager_only
def offers() -> str:
    return render_template("partner/offers.html", offers=offer_service.list_offers(get_session(), current_scope()))


@blueprint.get("/offers/<int:offer_id>")
@manager_only
def offer(offer_id: int) -> str:
    found = offer_service.get_offer(get_session(), offer_id, current_scope())
    return render_template("partner/offer.html", offer=found, action_form=ActionForm())


@blueprint.post("/offers/<int:offer_id>/<any(submit, retire):action>")
@manager_only
def change_offer(offer_id: int, action: str) -> Response:
    """A manager submits a draft for approval, or retires an offer (with a reason)."""
    form = ActionForm()
    session = get_session()
    found = offer_service.get_offer(session, offer_id, current_scope())
    if form.validate_on_submit():
        offer_service.change_offer_state(session, found, action, actor(), reason=request.form.get("reason"))
        flash(_("The offer is now %(state)s.", state=_(offer_service.STATE_WORDS[found.state])), "success")
    return redirect(url_for("partner.offer", offer_id=offer_id))


@blueprint.get("/redemptions")
@manager_only
def redemptions() -> str:
    session = get_session()
    recent = list_redemptions(session, current_scope(), RedemptionFilter())
    return render_template("partner/redemptions.html", recent=recent)


@blueprint.get("/staff")
@manager_only
def staff() -> str:
    people = list_staff(get_session(), current_user.organisation_id)
    return render_template("partner/staff.html", people=people)


@blueprint.get("/api-keys")
@manager_only
def api_keys() -> str:
    keys = list_api_keys(get_session(), current_scope())
    return render_template("partner/api_keys.html", keys=keys)


@blueprint.app_context_processor
def offer_vocabulary() -> dict[str, object]:
    """Words of the offers' vocabulary for every template (portal and administration)."""
    return {"state_words": offer_service.STATE_WORDS, "quota_text": quota_text}


def quota_text(offer: Offer) -> str:
    """ "20 redemptions a month", in the reader's language."""
    count, period = offer.quota_count or 0, offer.quota_period
    if period == QuotaPeriod.DAY:
        return ngettext("%(num)s redemption a day", "%(num)s redemptions a day", count)
    if period == QuotaPeriod.MONTH:
        return ngettext("%(num)s redemption a month", "%(num)s redemptions a month", count)
    return ngettext("%(num)s redemption a year", "%(num)s redemptions a year", count)

"""Back-office views shared by every feature: the blueprint, its access rule and its home page (the
register at a glance, within the reader's scope)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from webapp import formats
from webapp.access import current_scope, restrict_blueprint
from webapp.db import get_session
from webapp.i18n import current_language
from webapp.models import Role, utcnow
from webapp.services.cards.checks import count_reports
from webapp.services.cards.requests import count_pending_requests
from webapp.services.register.dashboard import CARD_STATES, register_overview
from webapp.services.register.reference_data import region_name, trade_name

blueprint = Blueprint("backoffice", __name__, url_prefix="/office")
restrict_blueprint(blueprint, Role.ADMIN, Role.OFFICER)

CARD_STATE_LABELS = {
    "active": _l("In force"),
    "suspended": _l("Suspended"),
    "expired": _l("Expired"),
    "revoked": _l("Revoked"),
}
GENDER_LABELS = {"female": _l("Women"), "male": _l("Men")}
CNSS_LABELS = {
    "registered": _l("Registered"),
    "pre_registered": _l("Pre-registered"),
    "not_registered": _l("Not registered"),
}
TRADES_SHOWN = 10


@blueprint.get("/")
def home() -> str:
    """The dashboard: artisans and cards by region, trade, state, gender and CNSS-AMO, cards per month;
    the artisans' requests to handle and the checks and redemptions holders reported, in the reader's scope."""
    overview = register_overview(get_session(), current_scope(), utcnow())
    language = current_language()
    charts = {
        "regions": [(region_name(code, language), count) for code, count in overview.by_region],
        "trades": [(trade_name(code, language), count) for code, count in overview.by_trade[:TRADES_SHOWN]],
        "card_states": [(CARD_STATE_LABELS[state], overview.cards_by_state[state]) for state in CARD_STATES],
        "genders": [(GENDER_LABELS[key], overview.by_gender.get(key, 0)) for key in GENDER_LABELS],
        "cnss": [(CNSS_LABELS[key], overview.by_cnss.get(key, 0)) for key in CNSS_LABELS],
        "months": [
            (formats.month(date(int(month[:4]), int(month[5:]), 1)), count)
            for month, count in overview.issued_per_month
        ],
    }
    scope = current_scope()
    region = region_name(scope.region_code, language) if scope.region_code else None
    pending = count_pending_requests(get_session(), scope)
    reported = count_reports(get_session(), scope)
    return render_template(
        "backoffice/home.html",
        overview=overview,
        charts=charts,
        region=region,
        pending_requests=pending,
        reported_checks=reported,
    )

"""Back-office views shared by every feature: the blueprint, its access rule and its home page."""

from __future__ import annotations

from flask import Blueprint, render_template

from webapp.access import restrict_blueprint
from webapp.models import Role

blueprint = Blueprint("backoffice", __name__, url_prefix="/office")
restrict_blueprint(blueprint, Role.ADMIN, Role.OFFICER)


@blueprint.get("/")
def home() -> str:
    return render_template("backoffice/home.html")

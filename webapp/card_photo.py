"""The signed-in artisan's own photo, for the card app (/card/, issue 15 part 2): GET /card/photo.

A blueprint of its own (artisans only) so that it stands before the card app's blueprint does;
the card app may take the view over. The photo is the artisan's own personal data: private, never
in a shared cache, revalidated by its ETag (the SHA-256 of the stored JPEG) so that a replaced
photo shows at once and an unchanged one costs a 304."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, request
from flask_login import current_user
from werkzeug.wrappers import Response

from webapp.access import restrict_blueprint
from webapp.db import get_session
from webapp.models import Role
from webapp.services.register.photos import own_photo

blueprint = Blueprint("card_photo", __name__, url_prefix="/card")
restrict_blueprint(blueprint, Role.ARTISAN)


@blueprint.get("/photo")
def own_card_photo() -> Response:
    """The photo the register holds of the signed-in artisan (404 when it holds none)."""
    stored = own_photo(get_session(), current_user)
    if stored is None:
        abort(404)
    response = make_response(stored.jpeg)
    response.mimetype = "image/jpeg"
    response.set_etag(stored.sha256)
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)

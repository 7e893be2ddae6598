"""The holder's photo in the back office (issue 15, part 7): an officer adds or replaces an
artisan's photo from the phone's camera or a file, framed to the card in the page's crop tool
(static/js/backoffice/photo-crop.js; without JavaScript a centred frame), or removes it.

The rules (type by decoding, sizes, metadata removed, re-encoding, the version check against a
concurrent change) are the service's: webapp/services/register/photos.py. A refusal is shown on
the form with status 422 (409 when another officer changed the photo meanwhile): the request then
commits nothing."""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response
from wtforms import HiddenField

from webapp.access import current_actor, current_scope
from webapp.backoffice.register import ARTISAN, FORM_REFUSED
from webapp.backoffice.views import blueprint
from webapp.db import get_session
from webapp.errors import translated_message
from webapp.models import Artisan, ArtisanPhoto
from webapp.security import accepts_upload, content_security_policy
from webapp.services.register import artisans as register
from webapp.services.register import photos
from webapp.services.scope import RecordNotFound

PHOTO = ARTISAN + "/photo"
# The image's URL names its version (?v=): a private cache may keep it; an unversioned URL revalidates.
IMAGE_CACHE_SECONDS = 86_400
VERSION_LENGTH = 16
PAGE_POLICY = content_security_policy({"img-src": ["blob:"]})


class PhotoForm(FlaskForm):
    # Two ways to give the photo (a phone opens its camera for the first, its files for the second);
    # the first one given is read.
    camera = FileField(_l("Take a photo"))
    photo = FileField(_l("Choose a file"))
    # The SHA-256 of the photo this form replaces ("" for none): another officer's change meanwhile
    # is refused, not overwritten.
    replaces = HiddenField()
    # The crop tool's frame, as fractions of the upright image (empty: a centred frame).
    crop_x = HiddenField()
    crop_y = HiddenField()
    crop_width = HiddenField()


class RemovePhotoForm(FlaskForm):
    replaces = HiddenField()


def photo_version(photo: ArtisanPhoto) -> str:
    return photo.sha256[:VERSION_LENGTH]


def photo_image_url(artisan: Artisan, photo: ArtisanPhoto | None) -> str | None:
    """The URL of the artisan's photo for an <img>, versioned; None without a photo."""
    if photo is None:
        return None
    return url_for("backoffice.artisan_photo_image", artisan_id=artisan.id, v=photo_version(photo))


@blueprint.context_processor
def photo_vocabulary() -> dict[str, object]:
    return {"photo_image_url": photo_image_url}


def _upload(form: PhotoForm) -> bytes:
    """The bytes of the first file given, read no further than one byte past the limit."""
    for field in (form.camera, form.photo):
        storage = field.data
        if isinstance(storage, FileStorage) and storage.filename:
            return storage.stream.read(photos.MAX_UPLOAD_BYTES + 1)
    return b""


def _photo_page(
    form: PhotoForm, artisan: Artisan, current: ArtisanPhoto | None, status: int, **context: Any
) -> Response:
    page = render_template(
        "backoffice/register/photo.html",
        form=form,
        remove_form=RemovePhotoForm(replaces=current.sha256 if current else ""),
        artisan=artisan,
        current=current,
        current_url=photo_image_url(artisan, current),
        max_bytes=photos.MAX_UPLOAD_BYTES,
        max_megabytes=photos.MAX_UPLOAD_BYTES // (1024 * 1024),
        aspect=(photos.ASPECT_WIDTH, photos.ASPECT_HEIGHT),
        photo_size=(photos.PHOTO_WIDTH, photos.PHOTO_HEIGHT),
        **context,
    )
    response = make_response(page, status)
    # The crop tool previews the chosen file from a blob: URL (never sent anywhere): this page only.
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


@blueprint.route(PHOTO, methods=["GET", "POST"])
@accepts_upload(photos.UPLOAD_BODY_LIMIT)
def artisan_photo(artisan_id: int) -> Response:
    """Add or replace the artisan's photo (camera or file, framed to the card), then back to their page."""
    session = get_session()
    found = register.get_artisan(session, artisan_id, current_scope())
    current = photos.photo_of(session, found.id)
    form = PhotoForm()
    if not form.is_submitted():
        form.replaces.data = current.sha256 if current else ""
        return _photo_page(form, found, current, 200)
    refusal, status = None, FORM_REFUSED
    if form.validate_on_submit():
        try:
            crop = photos.Crop.parse(form.crop_x.data, form.crop_y.data, form.crop_width.data)
            prepared = photos.prepare_photo(_upload(form), crop)
            changed = photos.set_photo(session, found, prepared, current_actor(), replaces=form.replaces.data or None)
        except photos.PhotoRefused as error:
            form.photo.errors = [translated_message(error)]
        except photos.PhotoChanged as error:
            refusal, status = translated_message(error), error.http_status
            # The form now names the photo stored, so that sending again replaces it knowingly.
            current = photos.photo_of(session, found.id)
            form.replaces.data = current.sha256 if current else ""
        else:
            flash(_("The photo is saved.") if changed else _("This photo is the one already stored."), "success")
            return redirect(url_for("backoffice.artisan", artisan_id=found.id))
    return _photo_page(form, found, current, status, refusal=refusal)


@blueprint.post(PHOTO + "/remove")
def remove_artisan_photo(artisan_id: int) -> Response:
    """Remove the artisan's photo (a wrong person's, a photo that must not be kept)."""
    session = get_session()
    found = register.get_artisan(session, artisan_id, current_scope())
    form = RemovePhotoForm()
    if not form.validate_on_submit():
        flash(_("The request could not be processed. Please check it and try again."), "error")
        return redirect(url_for("backoffice.artisan_photo", artisan_id=found.id))
    try:
        photos.remove_photo(session, found, current_actor(), replaces=form.replaces.data or "")
    except photos.PhotoChanged as error:
        flash(translated_message(error), "error")
        return redirect(url_for("backoffice.artisan_photo", artisan_id=found.id))
    flash(_("The photo is removed."), "success")
    return redirect(url_for("backoffice.artisan", artisan_id=found.id))


@blueprint.get(PHOTO + ".jpg")
def artisan_photo_image(artisan_id: int) -> Response:
    """The artisan's photo for staff of their region: private (personal data), cacheable by the
    officer's own browser under its versioned URL, revalidated by its ETag otherwise."""
    session = get_session()
    found = register.get_artisan(session, artisan_id, current_scope())
    stored = photos.photo_jpeg(session, found.id)
    if stored is None:
        raise RecordNotFound()
    response = make_response(stored.jpeg)
    response.mimetype = "image/jpeg"
    response.set_etag(stored.sha256)
    versioned = request.args.get("v") == stored.sha256[:VERSION_LENGTH]
    response.headers["Cache-Control"] = f"private, max-age={IMAGE_CACHE_SECONDS}" if versioned else "private, no-cache"
    return response.make_conditional(request)

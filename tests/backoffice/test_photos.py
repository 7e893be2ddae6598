"""The holder's photo page of the back office: an officer adds, replaces and removes an artisan's
photo (camera or file, framed to the card); bad files are refused on the form in the officer's
language with nothing written; a concurrent change is refused; the image is private. Who sees the
photo: staff of the region (the card face), partner staff (a card in force), the artisan
(their own, GET /card/photo), never the public."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.backoffice.conftest import OFFICER_REGION, Staff
from tests.backoffice.test_register import html_of
from tests.fixtures.auth import AuthActions
from tests.fixtures.photos import drawn_image
from tests.fixtures.support import TEST_ACTOR, csrf_token_from
from webapp.models import ArtisanPhoto, AuditEvent, Role
from webapp.services.register import photos
from webapp.services.register.photos import prepare_photo, set_photo


@pytest.fixture
def fes(session, make_artisan):
    artisan = make_artisan(region_code=OFFICER_REGION)
    session.commit()
    return artisan


def page_of(artisan) -> str:
    return f"/office/artisans/{artisan.id}/photo"


def stored(session, artisan) -> ArtisanPhoto | None:
    session.expire_all()
    return session.get(ArtisanPhoto, artisan.id)


def photo_events(session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action.startswith("artisan.photo"))))


def upload(data: bytes, field: str = "photo", name: str = "photo.jpg", **fields: str) -> dict:
    return {field: FileStorage(io.BytesIO(data), filename=name), "replaces": "", **fields}


def post_photo(staff: Staff, url: str, form: dict, language: str = "fr"):
    """Post a photo form as a browser does, the multipart body encoded here in memory (the test
    client spools a large body to a temporary file that it never closes)."""
    token = csrf_token_from(staff.client.get("/account").get_data(as_text=True))
    boundary, body = encode_multipart({**form, "csrf_token": token})
    return staff.client.post(
        f"{url}?lang={language}", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


@pytest.mark.parametrize(("language", "words"), [("fr", "Prendre une photo"), ("ar", "التقاط صورة")])
def test_the_page_offers_the_camera_and_a_file_with_the_crop_tool(as_officer, fes, language, words):
    """Two ways in (the back camera, a file), the crop tool's module, no photo yet."""
    response = as_officer.get(page_of(fes), language)
    html = html_of(response)
    assert words in html
    # The crop tool's preview is a blob: image; nothing else is widened (no inline script, no eval).
    policy = dict(part.split(" ", 1) for part in response.headers["Content-Security-Policy"].split("; "))
    assert policy["img-src"] == "'self' data: blob:" and policy["script-src"] == "'self'"
    assert 'capture="environment"' in html and 'accept="image/jpeg,image/png,image/webp"' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'type="module" src="/static/js/backoffice/photo-crop.js"' in html
    assert "<script>" not in html  # no inline script (strict CSP)


@pytest.mark.parametrize("field", ["camera", "photo"])
def test_an_officer_adds_a_photo_framed_as_chosen(as_officer, session, fes, make_card, field):
    """From the camera or a file: stored re-encoded at the card's size, audited, shown on the
    artisan's page (card face and trail)."""
    make_card(fes)
    response = post_photo(
        as_officer, page_of(fes), upload(drawn_image((1200, 1600)), field, crop_x="0", crop_y="0", crop_width="0.5")
    )
    assert response.status_code == 302 and response.headers["Location"] == f"/office/artisans/{fes.id}"
    row = stored(session, fes)
    assert (row.width, row.height) == (photos.PHOTO_WIDTH, photos.PHOTO_HEIGHT)
    [event] = photo_events(session)
    assert event.after["sha256"] == row.sha256
    page = html_of(as_officer.get(f"/office/artisans/{fes.id}"))
    assert f'src="/office/artisans/{fes.id}/photo.jpg?v={row.sha256[:16]}"' in page
    assert "Photo ajoutée ou remplacée" in page and "Changer la photo" in page


def test_a_photo_without_a_frame_is_centred(as_officer, session, fes):
    """No JavaScript, no frame fields: the middle of the photo, still at 4:5."""
    assert post_photo(as_officer, page_of(fes), upload(drawn_image((1600, 900)))).status_code == 302
    assert (stored(session, fes).width, stored(session, fes).height) == (photos.PHOTO_WIDTH, photos.PHOTO_HEIGHT)


BAD_FILES = {
    "no file": (b"", "Choisissez une photo", "اختر صورة"),
    "not an image": (b"RNA;CIN\n1;2\n", "n’est pas une image", "ليس صورة"),
    "wrong type": (drawn_image((600, 750), "GIF"), "JPEG, PNG ou WebP seulement", "غير مقبول"),
    "truncated": (drawn_image((900, 1200))[:20_000], "endommagée ou incomplète", "تالفة أو ناقصة"),
    "too large": (drawn_image() + b"\0" * photos.MAX_UPLOAD_BYTES, "trop volumineux", "كبير جدًا"),
    "too small": (drawn_image((120, 150)), "trop petite pour une carte", "أصغر من أن يصلح"),
}


@pytest.mark.parametrize("language", ["fr", "ar"])
@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_files_are_refused_on_the_form_with_nothing_written(as_officer, session, fes, name, language):
    """A refusal is on the form, in the officer's language, status 422; no photo, no audit event."""
    data, french, arabic = BAD_FILES[name]
    response = post_photo(as_officer, page_of(fes), upload(data, name="photo.jpg"), language=language)
    assert response.status_code == 422
    assert (french if language == "fr" else arabic) in html_of(response)
    assert stored(session, fes) is None and photo_events(session) == []


def test_a_malformed_frame_is_refused(as_officer, session, fes):
    response = post_photo(as_officer, page_of(fes), upload(drawn_image(), crop_x="x", crop_y="0", crop_width="0.5"))
    assert response.status_code == 422 and "cadre choisi" in html_of(response)
    assert stored(session, fes) is None


def test_a_second_officer_on_a_stale_page_is_refused_not_overwriting(as_officer, as_admin, session, fes):
    """Both opened the page with no photo; the first saves; the second's form still says "no photo":
    409 with the explanation, the first photo stays, and the form now names it."""
    first = post_photo(as_admin, page_of(fes), upload(drawn_image((900, 1200))))
    assert first.status_code == 302
    kept = stored(session, fes).sha256
    second = post_photo(as_officer, page_of(fes), upload(drawn_image((1200, 1600))))
    assert second.status_code == 409
    html = html_of(second)
    assert "Quelqu’un d’autre a changé cette photo" in html and f'value="{kept}"' in html
    assert stored(session, fes).sha256 == kept and len(photo_events(session)) == 1
    # Sent again knowingly (the form names the photo stored), it replaces it.
    again = post_photo(as_officer, page_of(fes), upload(drawn_image((1200, 1600)), replaces=kept))
    assert again.status_code == 302 and stored(session, fes).sha256 != kept


def test_an_officer_removes_the_photo(as_officer, session, fes):
    prepared = prepare_photo(drawn_image())
    set_photo(session, fes, prepared, TEST_ACTOR, replaces=None)
    session.commit()
    stale = as_officer.post(page_of(fes), {"replaces": "0" * 64}, action=page_of(fes) + "/remove")
    assert stale.status_code == 302 and stale.headers["Location"] == page_of(fes)
    assert stored(session, fes) is not None
    done = as_officer.post(page_of(fes), {"replaces": prepared.sha256}, action=page_of(fes) + "/remove")
    assert done.status_code == 302 and stored(session, fes) is None
    assert [event.action for event in photo_events(session)] == ["artisan.photo_set", "artisan.photo_remove"]


def test_the_image_is_private_with_its_digest_as_etag(as_officer, session, fes):
    """Served as JPEG, never sniffed, private: cached under its versioned URL, revalidated otherwise."""
    prepared = prepare_photo(drawn_image())
    set_photo(session, fes, prepared, TEST_ACTOR, replaces=None)
    session.commit()
    url = page_of(fes) + ".jpg"
    versioned = as_officer.client.get(f"{url}?v={prepared.sha256[:16]}")
    assert versioned.status_code == 200 and versioned.data == prepared.jpeg and versioned.mimetype == "image/jpeg"
    assert versioned.headers["Cache-Control"] == "private, max-age=86400"
    assert versioned.headers["ETag"] == f'"{prepared.sha256}"'
    assert versioned.headers["X-Content-Type-Options"] == "nosniff"
    plain = as_officer.client.get(url)
    assert plain.headers["Cache-Control"] == "private, no-cache"
    assert as_officer.client.get(url, headers={"If-None-Match": f'"{prepared.sha256}"'}).status_code == 304


def test_an_officer_of_another_region_is_refused(app, session, make_user, make_artisan):
    """Another region's artisan: the page, the upload, the removal and the image are all 404."""
    marrakech = make_artisan(region_code="07")
    set_photo(session, marrakech, prepare_photo(drawn_image()), TEST_ACTOR, replaces=None)
    session.commit()
    client = app.test_client()
    AuthActions(client).login(make_user(Role.OFFICER, region=OFFICER_REGION))
    officer = Staff(client)
    assert officer.get(page_of(marrakech)).status_code == 404
    assert officer.client.get(page_of(marrakech) + ".jpg").status_code == 404
    assert post_photo(officer, page_of(marrakech), upload(drawn_image())).status_code == 404
    assert officer.post(page_of(marrakech), {"replaces": ""}, action=page_of(marrakech) + "/remove").status_code == 404
    assert len(photo_events(session)) == 1  # the arranged one only


# Who else sees it ------------------------------------------------------------------------------


@pytest.fixture
def card_with_photo(session, make_card):
    card = make_card()
    prepared = prepare_photo(drawn_image())
    set_photo(session, card.artisan, prepared, TEST_ACTOR, replaces=None)
    session.commit()
    return card, prepared


def test_partner_staff_see_the_photo_of_a_card_in_force(client, auth, make_user, card_with_photo):
    card, prepared = card_with_photo
    auth.login(make_user(Role.PARTNER_AGENT))
    page = client.get("/partner/check", query_string={"card": card.number}).get_data(as_text=True)
    assert f'src="/partner/cards/{card.number}/photo"' in page
    response = client.get(f"/partner/cards/{card.number}/photo")
    assert response.status_code == 200 and response.data == prepared.jpeg
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_public_never_sees_the_photo(client, card_with_photo):
    """Signed out: no photo URL on the check page nor the verdict page; every photo URL refuses."""
    card, prepared = card_with_photo
    for page in (client.get("/check", query_string={"card": card.number}), client.get("/v")):
        html = page.get_data(as_text=True)
        assert "/photo" not in html and prepared.sha256 not in html
    for url in (f"/partner/cards/{card.number}/photo", "/card/photo", f"/office/artisans/{card.artisan_id}/photo.jpg"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
        assert response.data != prepared.jpeg


def test_the_artisan_gets_their_own_photo_and_nobody_else_does(app, make_user, card_with_photo):
    """GET /card/photo: the signed-in artisan's own photo (private, ETag, 304); an artisan without a
    photo gets 404; staff get 403 (it is the artisan's app's URL)."""
    card, prepared = card_with_photo

    def client_of(user):
        client = app.test_client()
        AuthActions(client).login(user)
        return client

    own = client_of(make_user(Role.ARTISAN, artisan=card.artisan))
    response = own.get("/card/photo")
    assert response.status_code == 200 and response.data == prepared.jpeg and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert response.headers["ETag"] == f'"{prepared.sha256}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert own.get("/card/photo", headers={"If-None-Match": f'"{prepared.sha256}"'}).status_code == 304
    assert client_of(make_user(Role.ARTISAN)).get("/card/photo").status_code == 404
    for role in (Role.OFFICER, Role.ADMIN, Role.PARTNER_AGENT):
        assert client_of(make_user(role)).get("/card/photo").status_code == 403

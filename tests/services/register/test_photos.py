"""The holder's photo: an upload is checked by decoding (type, size, pixels, damage), framed to the
card's 4:5, re-encoded without any metadata; storing it is audited (never the image) and refused
when another officer changed the photo meanwhile."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageCms
from sqlalchemy import select

from tests.fixtures.photos import drawn_image
from tests.fixtures.support import TEST_ACTOR
from webapp.models import ArtisanPhoto, AuditEvent, Role, utcnow
from webapp.services.cards.holders import holder_photo
from webapp.services.register import photos
from webapp.services.register.photos import Crop, PhotoChanged, prepare_photo, remove_photo, set_photo

RED = (255, 0, 0)


def decoded(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    image.load()
    return image


def is_red(pixel: tuple[int, ...]) -> bool:
    return pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares this size over a few bytes of data (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def jpeg_markers(jpeg: bytes) -> list[int]:
    """The markers of a JPEG's segments before its image data (APPn, COM, DQT, SOF, DHT, SOS...)."""
    markers, position = [], 2
    while position < len(jpeg):
        assert jpeg[position] == 0xFF
        marker = jpeg[position + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: the image data follows
            break
        (length,) = struct.unpack(">H", jpeg[position + 2 : position + 4])
        position += 2 + length
    return markers


# Reading an upload ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_format", "mode"),
    [("JPEG", "RGB"), ("JPEG", "L"), ("JPEG", "CMYK"), ("PNG", "RGB"), ("PNG", "RGBA"), ("PNG", "P"), ("WEBP", "RGB")],
)
def test_accepted_types_become_a_card_sized_jpeg(image_format, mode):
    """JPEG, PNG and WebP, in any usual colour mode, come out as an RGB JPEG of the card's size."""
    result = prepare_photo(drawn_image((900, 1200), image_format, mode))
    image = decoded(result.jpeg)
    assert image.format == "JPEG" and image.mode == "RGB"
    assert image.size == (result.width, result.height) == (photos.PHOTO_WIDTH, photos.PHOTO_HEIGHT)
    assert result.width * photos.ASPECT_HEIGHT == result.height * photos.ASPECT_WIDTH


def test_transparency_is_laid_on_white():
    """A transparent PNG's background becomes white, not black."""
    image = Image.new("RGBA", (600, 750), (0, 0, 0, 0))
    output = io.BytesIO()
    image.save(output, format="PNG")
    pixel = decoded(prepare_photo(output.getvalue()).jpeg).getpixel((10, 10))
    assert min(pixel) > 245


def test_the_officers_frame_is_kept_and_a_centred_one_without_it():
    """The frame sent by the crop tool (here: the top left corner) is what the card shows; with no
    frame, the middle of the photo."""
    upload = drawn_image((1200, 1200))
    framed = decoded(prepare_photo(upload, Crop(0.0, 0.0, 0.3)).jpeg)
    centred = decoded(prepare_photo(upload).jpeg)
    assert is_red(framed.getpixel((20, 20)))
    assert not is_red(centred.getpixel((20, 20)))


@pytest.mark.parametrize("crop", [Crop(0.0, 0.0, 1.0), Crop(0.9, 0.9, 0.5), Crop(0.5, 0.0, 1.0)])
def test_the_cards_aspect_is_enforced_whatever_frame_is_sent(crop):
    """A frame too wide for a landscape photo, or hanging out of it, is brought inside at 4:5."""
    result = prepare_photo(drawn_image((1600, 900)), crop)
    assert decoded(result.jpeg).size == (photos.PHOTO_WIDTH, photos.PHOTO_HEIGHT)


def test_a_photo_is_turned_upright_as_its_exif_says():
    """A phone's photo stored sideways with EXIF orientation 6 (turn 90° clockwise) is stored upright:
    the red corner, top left as stored, is top right once turned."""
    exif = Image.Exif()
    exif[0x0112] = 6
    upload = drawn_image((1200, 900), exif=exif)
    image = decoded(prepare_photo(upload).jpeg)
    assert is_red(image.getpixel((photos.PHOTO_WIDTH - 15, 15)))
    assert not is_red(image.getpixel((15, 15)))


def test_exif_gps_and_every_other_metadata_are_removed():
    """A JPEG with EXIF (GPS position, camera, date), an ICC profile and a comment: the stored JPEG
    has none of them, only the JFIF header and the image's own tables."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:12:07 10:00:00"  # DateTime
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (34.0, 1.0, 59.0), 3: "W", 4: (5.0, 0.0, 3.0)})  # Fès
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    upload = drawn_image((900, 1200), exif=exif.tobytes(), icc_profile=profile, comment=b"taken at the chamber")
    assert Image.open(io.BytesIO(upload)).getexif().get_ifd(0x8825)  # the upload does carry a position

    stored = prepare_photo(upload).jpeg
    image = decoded(stored)
    assert not image.getexif() and not image.getexif().get_ifd(0x8825)
    assert "icc_profile" not in image.info and "comment" not in image.info and "exif" not in image.info
    assert b"Exif" not in stored and b"PhoneMaker" not in stored and b"chamber" not in stored
    # APP0 (JFIF), quantisation tables, frame, Huffman tables, scan: no APP1 (EXIF, XMP), APP2 (ICC), COM.
    assert set(jpeg_markers(stored)) <= {0xE0, 0xDB, 0xC0, 0xC4, 0xDA}


def _truncated(image_format: str) -> bytes:
    whole = drawn_image((900, 1200), image_format)
    return whole[: len(whole) // 2]


BAD_UPLOADS = {
    "empty": (lambda: b"", "photo_missing"),
    "text": (lambda: b"name,cin\nKhadija,AB123456\n", "photo_not_an_image"),
    "pdf": (lambda: b"%PDF-1.7\n" + b"0" * 200, "photo_not_an_image"),
    "jpeg signature, then garbage": (lambda: b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4, "photo_not_an_image"),
    "gif": (lambda: drawn_image((600, 750), "GIF"), "photo_wrong_type"),
    "bmp": (lambda: drawn_image((600, 750), "BMP"), "photo_wrong_type"),
    "tiff": (lambda: drawn_image((600, 750), "TIFF"), "photo_wrong_type"),
    "heic": (lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100, "photo_wrong_type"),
    "truncated jpeg": (lambda: _truncated("JPEG"), "photo_damaged"),
    "truncated png": (lambda: _truncated("PNG"), "photo_damaged"),
    "truncated webp": (lambda: _truncated("WEBP"), "photo_damaged"),
    "too large": (lambda: drawn_image((900, 1200)) + b"\0" * photos.MAX_UPLOAD_BYTES, "photo_too_large"),
    "too many pixels": (lambda: png_declaring(6000, 5000), "photo_too_many_pixels"),
    "decompression bomb": (lambda: png_declaring(100_000, 100_000), "photo_too_many_pixels"),
    "too small": (lambda: drawn_image((200, 250)), "photo_too_small"),
}


@pytest.mark.parametrize("name", BAD_UPLOADS)
def test_bad_uploads_are_refused_with_their_reason(name):
    """Whatever the file claims to be, what it decodes to decides; each refusal has its own code."""
    make, code = BAD_UPLOADS[name]
    with pytest.raises(photos.PhotoRefused) as refusal:
        prepare_photo(make())
    assert refusal.value.code == code
    assert refusal.value.http_status == 422


@pytest.mark.parametrize(
    "values",
    [
        ("abc", "0", "0.5"),
        ("nan", "0", "0.5"),
        ("0", "inf", "0.5"),
        ("-0.1", "0", "0.5"),
        ("0", "1", "0.5"),
        ("0", "0", "0"),
        ("0", "0", "1.5"),
        ("0.1", "", ""),
        ("0", "0", "1" + "0" * 30),
    ],
)
def test_malformed_frames_are_refused(values):
    """A frame is three fractions (left, top in [0, 1), width in (0, 1]) or nothing at all."""
    with pytest.raises(photos.PhotoBadCrop):
        Crop.parse(*values)


def test_no_frame_sent_means_a_centred_one():
    assert Crop.parse("", None, " ") is None
    assert Crop.parse("0.1", "0.2", "0.5") == Crop(0.1, 0.2, 0.5)


# Storing --------------------------------------------------------------------------------------


def _events(session, action):
    return session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_a_photo_is_stored_in_its_own_table_and_audited_without_the_image(session, make_artisan, make_user):
    """The photo row holds the JPEG, its digest and size, who set it and when; the audit event
    holds digests and sizes only."""
    artisan = make_artisan()
    officer = make_user(Role.OFFICER, region="03")
    prepared = prepare_photo(drawn_image())
    actor = TEST_ACTOR.__class__(f"user:{officer.id}", officer.id)
    assert set_photo(session, artisan, prepared, actor, replaces=None) is True
    session.commit()

    row = session.get(ArtisanPhoto, artisan.id)
    assert (row.jpeg, row.sha256, row.width, row.height) == (prepared.jpeg, prepared.sha256, 480, 600)
    assert row.updated_by == officer.id and row.updated_at <= utcnow()
    [event] = _events(session, "artisan.photo_set")
    assert event.artisan_id == artisan.id and event.actor_user_id == officer.id
    assert event.before is None
    assert event.after == {"sha256": prepared.sha256, "width": 480, "height": 600, "bytes": len(prepared.jpeg)}


def test_replacing_names_the_photo_replaced(session, make_artisan):
    """A replacement that names the stored photo replaces it (audited with both digests)."""
    artisan = make_artisan()
    first, second = prepare_photo(drawn_image()), prepare_photo(drawn_image(), Crop(0, 0, 0.5))
    set_photo(session, artisan, first, TEST_ACTOR, replaces=None)
    set_photo(session, artisan, second, TEST_ACTOR, replaces=first.sha256)
    session.commit()
    assert session.get(ArtisanPhoto, artisan.id).sha256 == second.sha256
    events = _events(session, "artisan.photo_set")
    assert [event.before for event in events] == [None, {"sha256": first.sha256}]


@pytest.mark.parametrize("second_replaces", ["none", "the first officer's old photo"])
def test_two_officers_at_once_the_second_is_refused_not_overwriting(session, make_artisan, second_replaces):
    """Both officers opened the page on the same photo (or on none); the first one saves; the
    second one's form still names what they saw: refused (409), the first one's photo stays."""
    artisan = make_artisan()
    seen = None
    if second_replaces != "none":
        seen = prepare_photo(drawn_image((600, 750))).sha256
        set_photo(session, artisan, prepare_photo(drawn_image((600, 750))), TEST_ACTOR, replaces=None)
        session.commit()
    first, second = prepare_photo(drawn_image()), prepare_photo(drawn_image(), Crop(0, 0, 0.4))
    set_photo(session, artisan, first, TEST_ACTOR, replaces=seen)
    session.commit()
    with pytest.raises(PhotoChanged) as refusal:
        set_photo(session, artisan, second, TEST_ACTOR, replaces=seen)
    session.rollback()
    assert refusal.value.http_status == 409
    assert session.get(ArtisanPhoto, artisan.id).sha256 == first.sha256
    assert len(_events(session, "artisan.photo_set")) == (1 if seen is None else 2)


def test_the_same_photo_again_changes_nothing(session, make_artisan):
    artisan = make_artisan()
    prepared = prepare_photo(drawn_image())
    set_photo(session, artisan, prepared, TEST_ACTOR, replaces=None)
    assert set_photo(session, artisan, prepared, TEST_ACTOR, replaces=prepared.sha256) is False
    session.commit()
    assert len(_events(session, "artisan.photo_set")) == 1


def test_removing_a_photo_names_it_and_is_audited(session, make_artisan):
    artisan = make_artisan()
    prepared = prepare_photo(drawn_image())
    set_photo(session, artisan, prepared, TEST_ACTOR, replaces=None)
    with pytest.raises(PhotoChanged):
        remove_photo(session, artisan, TEST_ACTOR, replaces="0" * 64)
    remove_photo(session, artisan, TEST_ACTOR, replaces=prepared.sha256)
    session.commit()
    assert session.get(ArtisanPhoto, artisan.id) is None
    [event] = _events(session, "artisan.photo_remove")
    assert event.before == {"sha256": prepared.sha256} and event.after is None


def test_partner_staff_read_the_photo_of_a_card_in_force_and_the_artisan_their_own(session, make_card, make_user):
    """holder_photo (partner staff) and own_photo (the artisan's app) read the photo table."""
    card = make_card()
    prepared = prepare_photo(drawn_image())
    set_photo(session, card.artisan, prepared, TEST_ACTOR, replaces=None)
    artisan_user = make_user(Role.ARTISAN, artisan=card.artisan)
    session.commit()
    assert holder_photo(session, card.number, utcnow()) == prepared.jpeg
    assert photos.own_photo(session, artisan_user).sha256 == prepared.sha256
    assert photos.own_photo(session, make_user(Role.ARTISAN)) is None


def test_two_replacements_at_the_same_moment_the_database_decides(app, session, make_artisan):
    """Two officers' transactions in flight at once, both replacing the photo they saw: the second
    one's write waits for the first one's (a row lock on PostgreSQL, the write lock on SQLite), then
    finds the photo changed and is refused. Exactly one replacement, one audit event."""
    import threading

    artisan = make_artisan()
    seen = prepare_photo(drawn_image((600, 750)))
    set_photo(session, artisan, seen, TEST_ACTOR, replaces=None)
    session.commit()
    first, second = prepare_photo(drawn_image()), prepare_photo(drawn_image(), Crop(0, 0, 0.4))
    factory = app.extensions["database"].session_factory
    one, other = factory(), factory()
    outcome: list[object] = []

    def replace_meanwhile() -> None:
        try:
            set_photo(other, other.merge(artisan, load=False), second, TEST_ACTOR, replaces=seen.sha256)
            other.commit()
            outcome.append("replaced")
        except PhotoChanged as refusal:
            other.rollback()
            outcome.append(refusal)

    try:
        set_photo(
            one, one.merge(artisan, load=False), first, TEST_ACTOR, replaces=seen.sha256
        )  # written, not committed
        racer = threading.Thread(target=replace_meanwhile)
        racer.start()
        racer.join(timeout=1)
        assert racer.is_alive()  # waiting for the first transaction's lock
        one.commit()
        racer.join(timeout=30)
    finally:
        one.close()
        other.close()
    assert len(outcome) == 1 and isinstance(outcome[0], PhotoChanged)
    session.expire_all()
    assert session.get(ArtisanPhoto, artisan.id).sha256 == first.sha256
    assert len(_events(session, "artisan.photo_set")) == 2  # the first photo, then one replacement

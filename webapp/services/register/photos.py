"""The holder's photo of an artisan (issue 15, part 7): read an officer's upload, crop it to the
card's frame, re-encode it, store it in its own table (webapp/models/photo.py), audited.

What an upload must be, whatever its name or declared type says: at most MAX_UPLOAD_BYTES, a JPEG,
PNG or WebP that Pillow decodes whole (the type is found by decoding, with only those three
decoders allowed), at most MAX_PIXELS before anything is decoded (a small file can declare a huge
image: a decompression bomb), and a kept part large enough for a card. What is stored is never the
upload: the pixels are turned upright (EXIF orientation), converted to sRGB, cropped to the card's
4:5 frame (the officer's frame, or a centred one), resized to PHOTO_WIDTH x PHOTO_HEIGHT and
written as a new JPEG with no metadata at all (no EXIF, GPS, ICC, XMP or comment).

Two officers replacing one photo at once: each form names the photo it replaces (its SHA-256, or
none), and the write is conditional on it (an UPDATE ... WHERE sha256 = the one named, an INSERT
that the primary key refuses when another came first), so the second is refused with
PhotoChanged rather than silently overwriting the first. No Flask here.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import warnings
import zlib
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from webapp.models import Artisan, ArtisanPhoto, User, utcnow
from webapp.services.audit import Actor, record_event
from webapp.services.errors import N_, DomainError

# The card face's photo frame: 4:5, as the card summary shows it (static/css/app.css, .holder-photo:
# 6rem x 7.5rem) and as the demo photos are drawn (240 x 300). Stored at twice the demo's size:
# sharp on a phone's screen at 3 device pixels per CSS pixel, and on a printed card at ~400 dpi.
ASPECT_WIDTH, ASPECT_HEIGHT = 4, 5
PHOTO_WIDTH, PHOTO_HEIGHT = 480, 600
JPEG_QUALITY = 85
# The kept part of an upload must be at least this large (a card's photo is not made from a thumbnail).
MIN_WIDTH, MIN_HEIGHT = 240, 300
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Pixels an upload may declare, checked before anything is decoded. A JPEG is decoded at a reduced
# scale (below), so a phone's full-resolution photo (12 to 50 MP, 64 MP for a few) costs little; a
# PNG or WebP is decoded whole, 3 to 4 bytes a pixel: 25 MP is ~100 MB of one worker's memory.
MAX_PIXELS = {"JPEG": 64_000_000, "PNG": 25_000_000, "WEBP": 25_000_000}
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
# An upload's request may be larger than the photo limit, so that a photo slightly too large gets
# the form's own message rather than the server's "request too large" page (webapp/security.py).
UPLOAD_BODY_LIMIT = 2 * MAX_UPLOAD_BYTES

# Signatures of image types people send that are not accepted (to say "wrong type", not "not an
# image"): GIF, BMP, TIFF, and the ISO media files of HEIC/HEIF/AVIF (an iPhone's photos).
_OTHER_IMAGE_SIGNATURES = (b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")
_ISO_MEDIA_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")
# Pillow's decoders report a damaged file with any of these (never a bare Exception: a bug stays a bug).
_DECODING_ERRORS = (OSError, ValueError, EOFError, SyntaxError, struct.error, zlib.error, IndexError)

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class PhotoRefused(DomainError):
    """An upload that cannot become a holder's photo (nothing is written)."""

    code = "photo_refused"
    http_status = 422
    message = N_("This photo cannot be used.")


class PhotoMissing(PhotoRefused):
    code = "photo_missing"
    message = N_("Choose a photo, or take one with the camera.")


class PhotoTooLarge(PhotoRefused):
    code = "photo_too_large"
    message = N_("This file is too large: at most %(megabytes)s MB.")

    def __init__(self) -> None:
        super().__init__(megabytes=MAX_UPLOAD_BYTES // (1024 * 1024))


class PhotoWrongType(PhotoRefused):
    code = "photo_wrong_type"
    message = N_("This type of image is not accepted: a JPEG, PNG or WebP photo only.")


class PhotoNotAnImage(PhotoRefused):
    code = "photo_not_an_image"
    message = N_("This file is not an image: choose a JPEG, PNG or WebP photo.")


class PhotoDamaged(PhotoRefused):
    code = "photo_damaged"
    message = N_("This image is damaged or incomplete: take the photo or send the file again.")


class PhotoTooManyPixels(PhotoRefused):
    code = "photo_too_many_pixels"
    message = N_("This image has too many pixels (at most %(megapixels)s million): send a smaller one.")

    def __init__(self, limit: int) -> None:
        super().__init__(megapixels=limit // 1_000_000)


class PhotoTooSmall(PhotoRefused):
    code = "photo_too_small"
    message = N_(
        "The part of the photo kept is too small for a card: at least %(width)s × %(height)s pixels. "
        "Take the photo closer, or keep a larger part."
    )

    def __init__(self) -> None:
        super().__init__(width=MIN_WIDTH, height=MIN_HEIGHT)


class PhotoBadCrop(PhotoRefused):
    code = "photo_bad_crop"
    message = N_("The frame chosen on the photo is not valid: choose it again.")


class PhotoChanged(DomainError):
    """The photo the officer meant to replace is no longer the one stored (another officer's)."""

    code = "photo_changed"
    http_status = 409
    message = N_(
        "Someone else changed this photo meanwhile. Look at the photo now stored, then send yours "
        "again if it must replace it."
    )


@dataclass(frozen=True)
class Crop:
    """The officer's frame on the upright image, as fractions of its width and height: its left
    and top edges, and its width (its height follows from the card's 4:5 aspect)."""

    x: float
    y: float
    width: float

    @classmethod
    def parse(cls, x: str | None, y: str | None, width: str | None) -> Crop | None:
        """The frame sent by the page's crop tool; None when none was sent (no JavaScript: a centred
        frame); PhotoBadCrop for anything else than three fractions."""
        values = [(value or "").strip() for value in (x, y, width)]
        if not any(values):
            return None
        try:
            numbers = [float(value) for value in values if len(value) <= 20]
        except ValueError:
            raise PhotoBadCrop() from None
        if len(numbers) != 3 or not all(math.isfinite(number) for number in numbers):
            raise PhotoBadCrop()
        left, top, frame_width = numbers
        if not (0 <= left < 1 and 0 <= top < 1 and 0 < frame_width <= 1):
            raise PhotoBadCrop()
        return cls(left, top, frame_width)


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo ready to store: the re-encoded JPEG and what the table keeps beside it."""

    jpeg: bytes
    sha256: str
    width: int
    height: int


@dataclass(frozen=True)
class StoredPhoto:
    jpeg: bytes
    sha256: str


# Reading an upload ----------------------------------------------------------------------------


def prepare_photo(data: bytes, crop: Crop | None = None) -> PreparedPhoto:
    """The card photo made from an upload, or the PhotoRefused that says why not."""
    if not data:
        raise PhotoMissing()
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoTooLarge()
    image = _open(data)
    with image:
        upright_size = _upright_size(image)
        box = _frame(upright_size, crop)
        if box[2] < MIN_WIDTH or box[3] < MIN_HEIGHT:
            raise PhotoTooSmall()
        if image.format == "JPEG":
            # Decode at the smallest of libjpeg's scales (1/2, 1/4, 1/8) that still gives the frame
            # its final size: a 48 MP photo then takes a few megabytes, not 150.
            scale = PHOTO_WIDTH / box[2]
            image.draft(None, (math.ceil(image.width * scale), math.ceil(image.height * scale)))
        try:
            image.load()
            upright = ImageOps.exif_transpose(image)
        except _DECODING_ERRORS:
            raise PhotoDamaged() from None
        rgb = _srgb(upright)
    # The frame again, on the decoded pixels (a draft is smaller than the declared size).
    factor = rgb.width / upright_size[0]
    left, top, width, height = (value * factor for value in box)
    framed = rgb.resize(
        (PHOTO_WIDTH, PHOTO_HEIGHT), Image.Resampling.LANCZOS, box=(left, top, left + width, top + height)
    )
    # A new image holds the pixels and nothing else: no metadata of the upload can follow them.
    clean = Image.new("RGB", framed.size)
    clean.paste(framed)
    output = io.BytesIO()
    clean.save(output, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    jpeg = output.getvalue()
    return PreparedPhoto(jpeg, hashlib.sha256(jpeg).hexdigest(), PHOTO_WIDTH, PHOTO_HEIGHT)


def _open(data: bytes) -> Image.Image:
    """The upload opened (its header read, nothing decoded yet) by the accepted decoders only."""
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own pixel limit and refuses above twice that; both are refusals here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoTooManyPixels(min(MAX_PIXELS.values())) from None
    except UnidentifiedImageError:
        raise (PhotoWrongType() if _is_other_image_type(data) else PhotoNotAnImage()) from None
    except _DECODING_ERRORS:
        raise PhotoDamaged() from None
    if image.format not in ACCEPTED_FORMATS:  # never, with formats= above; kept as the rule's statement
        image.close()
        raise PhotoWrongType()
    if image.width * image.height > MAX_PIXELS[image.format]:
        image.close()
        raise PhotoTooManyPixels(MAX_PIXELS[image.format])
    return image


def _is_other_image_type(data: bytes) -> bool:
    return data.startswith(_OTHER_IMAGE_SIGNATURES) or (data[4:8] == b"ftyp" and data[8:12] in _ISO_MEDIA_BRANDS)


def _upright_size(image: Image.Image) -> tuple[int, int]:
    """The size once turned as its EXIF orientation says (5 to 8 are a quarter turn)."""
    try:
        orientation = image.getexif().get(0x0112, 1)
    except _DECODING_ERRORS:
        orientation = 1  # unreadable EXIF: shown as stored (exif_transpose reads it the same way)
    return (image.height, image.width) if orientation in (5, 6, 7, 8) else (image.width, image.height)


def _frame(size: tuple[int, int], crop: Crop | None) -> tuple[float, float, float, float]:
    """The 4:5 frame (left, top, width, height) in pixels of the upright image: the officer's, kept
    inside the image and at the card's aspect whatever was sent, or the largest centred one."""
    image_width, image_height = size
    largest = min(image_width, image_height * ASPECT_WIDTH / ASPECT_HEIGHT)
    if crop is None:
        width = largest
        left, top = (image_width - width) / 2, (image_height - width * ASPECT_HEIGHT / ASPECT_WIDTH) / 2
    else:
        width = min(crop.width * image_width, largest)
        left, top = crop.x * image_width, crop.y * image_height
    height = width * ASPECT_HEIGHT / ASPECT_WIDTH
    left = min(max(left, 0.0), image_width - width)
    top = min(max(top, 0.0), image_height - height)
    return left, top, width, height


def _srgb(image: Image.Image) -> Image.Image:
    """RGB pixels in sRGB: an embedded colour profile applied (a phone's Display P3, a CMYK scan),
    transparency laid on white."""
    profile = image.info.get("icc_profile")
    if profile and image.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=output_mode)
            if converted is not None:
                image = converted
        except (ImageCms.PyCMSError, *_DECODING_ERRORS):
            pass  # a broken or unusual profile: the pixels as they are, which is what most viewers show
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


# Stored photos --------------------------------------------------------------------------------


def photo_of(session: Session, artisan_id: int) -> ArtisanPhoto | None:
    """The artisan's photo row (its bytes are loaded only if read), or None."""
    return session.get(ArtisanPhoto, artisan_id)


def photo_jpeg(session: Session, artisan_id: int) -> StoredPhoto | None:
    """The artisan's photo, bytes and digest, or None."""
    row = session.execute(
        select(ArtisanPhoto.jpeg, ArtisanPhoto.sha256).where(ArtisanPhoto.artisan_id == artisan_id)
    ).first()
    return StoredPhoto(row.jpeg, row.sha256) if row is not None else None


def own_photo(session: Session, user: User) -> StoredPhoto | None:
    """A signed-in artisan's own photo (whatever their card's state: it is theirs), or None."""
    return photo_jpeg(session, user.artisan_id) if user.artisan_id is not None else None


def set_photo(
    session: Session,
    artisan: Artisan,
    prepared: PreparedPhoto,
    actor: Actor,
    *,
    replaces: str | None,
    now: datetime | None = None,
) -> bool:
    """Store the artisan's photo in place of the one named by `replaces` (its SHA-256; None: the
    artisan has none yet). PhotoChanged when another is stored by now. One audit event, with the
    digests and sizes, never the image. False (and no event) when the same photo is sent again."""
    if prepared.sha256 == replaces:
        return False
    values = {
        "jpeg": prepared.jpeg,
        "sha256": prepared.sha256,
        "width": prepared.width,
        "height": prepared.height,
        "updated_at": now or utcnow(),
        "updated_by": actor.user_id,
    }
    if replaces is None:
        try:
            with session.begin_nested():
                session.execute(insert(ArtisanPhoto).values(artisan_id=artisan.id, **values))
        except IntegrityError:
            raise PhotoChanged() from None
    else:
        statement = (
            update(ArtisanPhoto)
            .where(ArtisanPhoto.artisan_id == artisan.id, ArtisanPhoto.sha256 == replaces)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if session.execute(statement).rowcount != 1:
            raise PhotoChanged()
    _forget_loaded(session, artisan.id)
    record_event(
        session,
        actor,
        "artisan.photo_set",
        artisan=artisan,
        before={"sha256": replaces} if replaces else None,
        after={
            "sha256": prepared.sha256,
            "width": prepared.width,
            "height": prepared.height,
            "bytes": len(prepared.jpeg),
        },
    )
    return True


def _forget_loaded(session: Session, artisan_id: int) -> None:
    """The statements above bypass the session's objects: a photo row it loaded before would still
    show the old photo (or one that is gone)."""
    loaded = session.identity_map.get(identity_key(ArtisanPhoto, artisan_id))
    if loaded is not None:
        session.expunge(loaded)


def remove_photo(session: Session, artisan: Artisan, actor: Actor, *, replaces: str) -> None:
    """Remove the artisan's photo, if it is still the one named (PhotoChanged otherwise). Audited."""
    statement = ArtisanPhoto.__table__.delete().where(
        ArtisanPhoto.artisan_id == artisan.id, ArtisanPhoto.sha256 == replaces
    )
    if session.execute(statement).rowcount != 1:
        raise PhotoChanged()
    _forget_loaded(session, artisan.id)
    record_event(session, actor, "artisan.photo_remove", artisan=artisan, before={"sha256": replaces})

"""The printed card (ID-1, 85.6 x 54 mm): what its two faces show, and a PDF of many cards.

One card is a pair of pages, front then back (duplex order). Each page is the card plus a 3 mm
bleed on every side (91.6 x 60 mm), with its TrimBox (the card) and BleedBox (the page) set;
coloured backgrounds run into the bleed, everything that must be read stays SAFE_MM inside the
trim. Fonts are embedded (subsets). The photo is placed at 300 ppi. The QR code is drawn as
vector squares from segno's matrix (crisp at any printer resolution), at least MIN_MODULE_MM a
module, with its 4-module quiet zone. No Flask here.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

import segno
from PIL import Image
from segno.consts import MODE_BYTE, MODE_NUMERIC
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.clock import MOROCCO
from webapp.models import Artisan, ArtisanPhoto, Card, Region
from webapp.services.cards.numbers import format_card_number
from webapp.services.cards.qr import QUIET_ZONE_MODULES
from webapp.services.cards.tokens import VERIFY_PATH, qr_text
from webapp.services.errors import N_, DomainError
from webapp.services.printing import qr_encode
from webapp.services.printing.canvas import BLEED_MM, Canvas, Rgb
from webapp.services.register.photos import photo_jpeg
from webapp.services.register.reference_data import chamber_seed

CARD_WIDTH_MM, CARD_HEIGHT_MM = 85.6, 54.0  # ISO/IEC 7810 ID-1
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = CARD_WIDTH_MM + 2 * BLEED_MM, CARD_HEIGHT_MM + 2 * BLEED_MM
SAFE_MM = 3.0  # what must be read stays this far inside the trim
# The safe area in page coordinates (the page's origin is the bleed's corner).
LEFT = BLEED_MM + SAFE_MM
TOP = BLEED_MM + SAFE_MM
RIGHT = PAGE_WIDTH_MM - BLEED_MM - SAFE_MM
BOTTOM = PAGE_HEIGHT_MM - BLEED_MM - SAFE_MM

# x, y, w, h in mm: the stored photos' 4:5 frame, 0.8 x 1 inch: at 300 ppi exactly half a stored
# photo (480 x 600), which JPEG decoding yields directly at 1/2 scale (no resampling pass).
PHOTO_BOX = (LEFT, 19.7, 20.32, 25.4)
PHOTO_PPI = 300
QR_BOX_MM = 36.0  # the QR code with its quiet zone, square
QR_X, QR_Y = LEFT - 1.0, TOP + (BOTTOM - TOP - QR_BOX_MM) / 2 - 1.6  # its top-left corner on the back
MIN_MODULE_MM = 0.4

ACCENT: Rgb = (11, 92, 74)  # the product's accent colour (static/css/app.css --accent)
GOLD: Rgb = (200, 160, 74)
INK: Rgb = (25, 28, 27)
MUTED: Rgb = (96, 104, 101)
WHITE: Rgb = (255, 255, 255)
PAPER: Rgb = (247, 245, 239)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardFace:
    """Everything printed on one card, gathered once (a batch renders from these, not from rows)."""

    number: str
    name_latin: str
    name_ar: str
    trade_fr: str
    trade_ar: str
    region_fr: str
    region_ar: str
    expires_on: date
    photo_jpeg: bytes | None
    qr_text: str
    verification_url: str  # the public verification page, printed in words beside the QR code
    chamber_name_fr: str
    chamber_name_ar: str
    chamber_address_fr: str
    chamber_address_ar: str


def card_face_for(session: Session, card: Card, *, public_base_url: str) -> CardFace:
    """The faces of `card` from the database: its holder, trade, region, chamber and photo.
    The QR text is exactly `cards qr-text`'s; the caller decides whether the card may be printed."""
    photo = photo_jpeg(session, card.artisan_id)
    return _face(card, photo.jpeg if photo is not None else None, public_base_url)


def card_faces_for(session: Session, cards: Sequence[Card], *, public_base_url: str) -> list[CardFace]:
    """card_face_for of many cards (a batch's part), their photos read in one query, not one a card.
    The cards' artisans, regions and trades should be loaded with them (joinedload)."""
    statement = select(ArtisanPhoto.artisan_id, ArtisanPhoto.jpeg).where(
        ArtisanPhoto.artisan_id.in_({card.artisan_id for card in cards})
    )
    photos = {artisan_id: jpeg for artisan_id, jpeg in session.execute(statement)}
    return [_face(card, photos.get(card.artisan_id), public_base_url) for card in cards]


def _face(card: Card, photo: bytes | None, public_base_url: str) -> CardFace:
    artisan: Artisan = card.artisan
    region: Region = artisan.region
    seed = chamber_seed(region.code)
    return CardFace(
        number=card.number,
        name_latin=f"{artisan.first_name_latin} {artisan.last_name_latin}",
        name_ar=f"{artisan.first_name_ar} {artisan.last_name_ar}",
        trade_fr=artisan.trade.name_fr,
        trade_ar=artisan.trade.name_ar,
        region_fr=region.name_fr,
        region_ar=region.name_ar,
        expires_on=card.expires_at.astimezone(MOROCCO).date(),
        photo_jpeg=photo,
        qr_text=qr_text(public_base_url, card.token),
        verification_url=f"{public_base_url}{VERIFY_PATH}",
        chamber_name_fr=region.chamber_name_fr or seed["chamber_name_fr"],
        chamber_name_ar=region.chamber_name_ar or seed["chamber_name_ar"],
        chamber_address_fr=region.chamber_address_fr or seed["chamber_address_fr"],
        chamber_address_ar=region.chamber_address_ar or seed["chamber_address_ar"],
    )


def render_cards_pdf(faces: Iterable[CardFace], target: BinaryIO) -> int:
    """Write one PDF with every card, front then back, into `target`; returns the pages written."""
    canvas = card_canvas()
    try:
        for face in faces:
            draw_front(canvas, face)
            draw_back(canvas, face)
        return canvas.write(target)
    finally:
        canvas.close_fonts()


def card_canvas() -> Canvas:
    canvas = Canvas((PAGE_WIDTH_MM, PAGE_HEIGHT_MM), bleed_boxes=True)
    canvas.set_title("Cartes professionnelles d'artisan")
    return canvas


def _date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def display_url(url: str) -> str:
    """The verification URL as people type it: no scheme."""
    return url.split("://", 1)[-1]


# -- front ---------------------------------------------------------------------------------------


def draw_front(canvas: Canvas, face: CardFace) -> None:
    canvas.new_page()
    canvas.cached("front-frame", lambda: _front_frame(canvas))
    text_left = LEFT + PHOTO_BOX[2] + 3.0
    text_width = RIGHT - text_left
    half = (text_width - 2.0) / 2
    # Names: Latin left, Arabic right (each script in its own direction), shrunk or wrapped to fit.
    canvas.text_box(
        text_left, 19.6, text_width, 6.4, face.name_latin, size=9.5, min_size=7, style="B", color=INK, max_lines=2
    )
    canvas.text_box(
        text_left,
        26.0,
        text_width,
        6.4,
        face.name_ar,
        size=10.5,
        min_size=7.5,
        style="B",
        color=INK,
        align="R",
        max_lines=2,
    )
    canvas.cached(("rule", text_left), lambda: _hairline(canvas, text_left, 33.0, RIGHT))
    _pair(canvas, text_left, 33.6, half, "Métier", "الحرفة", face.trade_fr, face.trade_ar)
    _pair(canvas, text_left, 39.4, half, "Région", "الجهة", face.region_fr, face.region_ar)
    # The number and the expiry: large, in Latin digits (read aloud on the phone, typed in forms).
    # Grouped as on every screen and in the forms' placeholder (format_card_number).
    number = format_card_number(face.number)
    canvas.text_box(LEFT, 49.2, 44.0, 4.8, number, size=11, min_size=8, style="B", color=INK, align="L")
    canvas.text_box(
        RIGHT - 30.0,
        49.2,
        30.0,
        4.8,
        _date(face.expires_on),
        size=10,
        min_size=8,
        style="B",
        color=INK,
        align="R",
        cache=True,
    )
    if face.photo_jpeg is not None:
        _photo(canvas, face.photo_jpeg)
    else:
        canvas.cached("no-photo", lambda: _no_photo(canvas))


def _front_frame(canvas: Canvas) -> None:
    """Everything the same on every front: the band, the emblem area, the titles, the labels."""
    canvas.set_fill_color(*WHITE)
    canvas.rect(0, 0, PAGE_WIDTH_MM, PAGE_HEIGHT_MM, style="F")
    band_bottom = 17.0
    canvas.set_fill_color(*ACCENT)
    canvas.rect(0, 0, PAGE_WIDTH_MM, band_bottom, style="F")
    canvas.set_fill_color(*GOLD)
    canvas.rect(0, band_bottom, PAGE_WIDTH_MM, 0.6, style="F")
    canvas.rect(0, PAGE_HEIGHT_MM - BLEED_MM - 1.2, PAGE_WIDTH_MM, BLEED_MM + 1.2, style="F")
    _emblem(canvas, PAGE_WIDTH_MM / 2, (TOP + band_bottom - 1.2) / 2, 5.0)
    column = PAGE_WIDTH_MM / 2 - 7.0 - LEFT
    canvas.text_box(LEFT, TOP, column, 3.6, "ROYAUME DU MAROC", size=5.6, style="B", color=GOLD)
    canvas.text_box(
        LEFT,
        TOP + 3.8,
        column,
        6.0,
        "Carte professionnelle de l'artisan",
        size=7.2,
        min_size=6,
        style="B",
        color=WHITE,
        max_lines=2,
    )
    canvas.text_box(
        RIGHT - column, TOP, column, 3.6, "المملكة المغربية", size=6.4, min_size=5.6, style="B", color=GOLD, align="R"
    )
    canvas.text_box(
        RIGHT - column,
        TOP + 3.8,
        column,
        6.0,
        "البطاقة المهنية للصانع التقليدي",
        size=8,
        min_size=6.5,
        style="B",
        color=WHITE,
        align="R",
        max_lines=2,
    )
    canvas.text_box(LEFT, 46.0, 44.0, 3.2, "N° de carte · رقم البطاقة", size=5.4, color=MUTED)
    canvas.text_box(
        RIGHT - 40.0, 46.0, 40.0, 3.2, "Valable jusqu'au · صالحة إلى غاية", size=5.4, color=MUTED, align="R"
    )
    x, y, w, h = PHOTO_BOX
    canvas.set_draw_color(*MUTED)
    canvas.set_line_width(0.15)
    canvas.rect(x - 0.3, y - 0.3, w + 0.6, h + 0.6, style="D")


def _emblem(canvas: Canvas, cx: float, cy: float, radius: float) -> None:
    """The emblem's area: a drawn placeholder (an eight-pointed star in a ring), not an emblem."""
    canvas.set_draw_color(*GOLD)
    canvas.set_line_width(0.35)
    canvas.circle(cx, cy, radius, style="D")
    canvas.set_fill_color(*GOLD)
    canvas.star(cx, cy, radius * 0.42, radius * 0.78, 8, style="F")
    canvas.set_fill_color(*ACCENT)
    canvas.circle(cx, cy, radius * 0.3, style="F")


def _hairline(canvas: Canvas, x1: float, y: float, x2: float) -> None:
    canvas.set_draw_color(*GOLD)
    canvas.set_line_width(0.2)
    canvas.line(x1, y, x2, y)


def _pair(canvas: Canvas, x: float, y: float, half: float, label_fr: str, label_ar: str, fr: str, ar: str) -> None:
    """A labelled value in both languages: French on the left, Arabic on the right."""
    right = x + 2 * half + 2.0
    canvas.text_box(x, y, half, 2.6, label_fr, size=5, color=MUTED, cache=True)
    canvas.text_box(right - half, y, half, 2.6, label_ar, size=5.6, color=MUTED, align="R", cache=True)
    canvas.text_box(x, y + 2.5, half, 3.4, fr, size=7.2, min_size=5.2, style="B", color=INK, cache=True, max_lines=2)
    canvas.text_box(
        right - half,
        y + 2.5,
        half,
        3.4,
        ar,
        size=7.8,
        min_size=5.6,
        style="B",
        color=INK,
        align="R",
        cache=True,
        max_lines=2,
    )


def _photo(canvas: Canvas, jpeg: bytes) -> None:
    x, y, w, h = PHOTO_BOX
    canvas.image(io.BytesIO(photo_at_ppi(jpeg, w, h)), x=x, y=y, w=w, h=h)


def photo_pixels(width_mm: float, height_mm: float, ppi: int = PHOTO_PPI) -> tuple[int, int]:
    return round(width_mm / 25.4 * ppi), round(height_mm / 25.4 * ppi)


def photo_at_ppi(jpeg: bytes, width_mm: float, height_mm: float) -> bytes:
    """The photo resampled to the box at 300 ppi when it is larger (a printer gains nothing from
    more); a smaller one is placed as it is, never upscaled, and logged (it prints below 300 ppi)."""
    target = photo_pixels(width_mm, height_mm)
    with Image.open(io.BytesIO(jpeg)) as image:
        if image.width <= target[0] or image.height <= target[1]:
            if image.size != target:
                log.warning("card photo of %sx%s px prints below %s ppi", image.width, image.height, PHOTO_PPI)
            return jpeg
        # JPEG draft mode decodes at 1/2, 1/4... of the size when that is still large enough.
        image.draft("RGB", target)
        resized = image.convert("RGB")
        if resized.size != target:
            resized = resized.resize(target, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    resized.save(out, format="JPEG", quality=90, dpi=(PHOTO_PPI, PHOTO_PPI))
    return out.getvalue()


def _no_photo(canvas: Canvas) -> None:
    """No photo on record: a neutral silhouette, so the card never shows an empty hole."""
    x, y, w, h = PHOTO_BOX
    canvas.set_fill_color(*PAPER)
    canvas.rect(x, y, w, h, style="F")
    canvas.set_fill_color(205, 208, 204)
    with canvas.rect_clip(x, y, w, h):  # the shoulders end at the frame
        canvas.circle(x + w / 2, y + h * 0.38, w * 0.22, style="F")
        canvas.ellipse(x + w * 0.14, y + h * 0.66, w * 0.72, h * 0.5, style="F")


# -- back ----------------------------------------------------------------------------------------


def draw_back(canvas: Canvas, face: CardFace) -> None:
    canvas.new_page()
    canvas.cached("back-frame", lambda: _back_frame(canvas))
    # The quiet zone may reach 1 mm into the safe margin (it is white space); the symbol does not.
    qr_x, qr_y = QR_X, QR_Y
    draw_qr(canvas, face.qr_text, qr_x, qr_y, QR_BOX_MM)
    canvas.text_box(
        qr_x,
        qr_y + QR_BOX_MM + 0.2,
        QR_BOX_MM,
        3.0,
        format_card_number(face.number),
        size=6,
        style="B",
        color=MUTED,
        align="C",
    )
    column_x = LEFT + QR_BOX_MM + 1.5
    column_w = RIGHT - column_x
    canvas.text_box(
        column_x,
        15.6,
        column_w,
        3.6,
        display_url(face.verification_url),
        size=7.4,
        min_size=5,
        style="B",
        color=ACCENT,
        cache=True,
    )
    canvas.cached(
        ("chamber", face.chamber_name_fr, face.chamber_address_fr, face.chamber_name_ar, face.chamber_address_ar),
        lambda: _chamber(canvas, face, column_x, column_w),
    )


def _back_frame(canvas: Canvas) -> None:
    canvas.set_fill_color(*WHITE)
    canvas.rect(0, 0, PAGE_WIDTH_MM, PAGE_HEIGHT_MM, style="F")
    canvas.set_fill_color(*ACCENT)
    canvas.rect(0, PAGE_HEIGHT_MM - BLEED_MM - 1.6, PAGE_WIDTH_MM, BLEED_MM + 1.6, style="F")
    canvas.rect(0, 0, PAGE_WIDTH_MM, BLEED_MM + 1.2, style="F")
    canvas.set_fill_color(*GOLD)
    canvas.rect(0, BLEED_MM + 1.2, PAGE_WIDTH_MM, 0.4, style="F")
    column_x = LEFT + QR_BOX_MM + 1.5
    column_w = RIGHT - column_x
    canvas.text_box(
        column_x,
        TOP + 0.2,
        column_w,
        3.2,
        "Vérifier cette carte : scannez le code",
        size=5.6,
        min_size=4.8,
        style="B",
        color=INK,
    )
    canvas.text_box(
        column_x,
        TOP + 3.4,
        column_w,
        3.6,
        "للتحقق من هذه البطاقة امسح الرمز",
        size=6.2,
        min_size=5.2,
        style="B",
        color=INK,
        align="R",
    )
    canvas.text_box(column_x, TOP + 6.8, column_w, 2.8, "ou ouvrez · أو افتح", size=5, color=MUTED)
    _hairline(canvas, column_x, 20.6, RIGHT)


def _chamber(canvas: Canvas, face: CardFace, x: float, w: float) -> None:
    canvas.text_box(x, 21.2, w, 2.6, "Délivrée par · مسلمة من طرف", size=4.8, color=MUTED)
    canvas.text_box(x, 23.8, w, 5.2, face.chamber_name_fr, size=5.8, min_size=4.6, style="B", color=INK, max_lines=2)
    canvas.text_box(x, 29.0, w, 4.6, face.chamber_address_fr, size=5.4, min_size=4.4, color=INK, max_lines=2)
    canvas.text_box(
        x, 34.0, w, 5.6, face.chamber_name_ar, size=6.4, min_size=5, style="B", color=INK, align="R", max_lines=2
    )
    canvas.text_box(x, 39.6, w, 4.8, face.chamber_address_ar, size=6, min_size=4.8, color=INK, align="R", max_lines=2)
    _hairline(canvas, x, 45.2, RIGHT)
    canvas.text_box(
        x,
        45.6,
        w,
        4.2,
        "Carte personnelle. Trouvée ? Remettez-la à la chambre.",
        size=4.6,
        min_size=4,
        color=MUTED,
        max_lines=2,
    )
    canvas.text_box(
        x,
        49.8,
        w,
        4.2,
        "بطاقة شخصية. إن وجدتها فسلّمها إلى الغرفة.",
        size=5.2,
        min_size=4.4,
        color=MUTED,
        align="R",
        max_lines=2,
    )


# -- QR code -------------------------------------------------------------------------------------


def qr_code(text: str) -> segno.QRCode:
    """The QR code of a card's QR text, made as webapp.services.cards.qr makes it: the verify
    page's URL as bytes, the token's digits as a numeric segment, ECC level M."""
    prefix, _hash, digits = text.partition("#")
    if digits.isdigit():
        # qr_encode: segno's symbol, made ~3x faster (the QR code was most of a card's cost).
        return qr_encode.make([(prefix + "#", MODE_BYTE), (digits, MODE_NUMERIC)])
    return qr_encode.make(text)


def qr_module_mm(code: segno.QRCode, box_mm: float = QR_BOX_MM) -> float:
    return box_mm / (code.symbol_size(border=QUIET_ZONE_MODULES)[0])


_DARK_RUNS = re.compile(rb"1+")
_ROW_TEXT = bytes.maketrans(b"\x00\x01", b"01")


class QrTooDense(DomainError):
    """A QR code whose modules would print smaller than MIN_MODULE_MM in its box."""

    code = "qr_too_dense"
    http_status = 422
    message = N_("QR code version %(version)s would print %(module)s mm a module: too small to scan.")


def draw_qr(canvas: Canvas, text: str, x: float, y: float, box_mm: float) -> float:
    """Draw the QR code with its quiet zone in the square (x, y, box_mm); returns the module size.
    Dark modules are filled rectangles, one per horizontal run (fewer operators, no seams)."""
    code = qr_code(text)
    module = qr_module_mm(code, box_mm)
    if module < MIN_MODULE_MM:
        raise QrTooDense(version=code.version, module=f"{module:.3f}")
    k = canvas.k  # points per mm
    box = box_mm * k
    # The whole box white (the quiet zone is white whatever lies below), then the dark modules.
    ops = [f"q 1 g {x * k:.3f} {(canvas.h - y - box_mm) * k:.3f} {box:.3f} {box:.3f} re f 0 g"]
    step = module * k
    origin_x = x + QUIET_ZONE_MODULES * module
    origin_y = y + QUIET_ZONE_MODULES * module
    size = len(code.matrix)
    # Coordinates formatted once per column, row and run length (the same few hundred numbers).
    lefts = [f"{(origin_x + column * module) * k:.3f}" for column in range(size)]
    tops = [f"{(canvas.h - (origin_y + (row + 1) * module)) * k:.3f}" for row in range(size)]
    runs = [f"{length * step:.3f} {step:.3f} re" for length in range(size + 1)]
    for row_index, row in enumerate(code.matrix):
        top = tops[row_index]
        # Dark runs of the row: "1" blocks of its text, found by a C-coded regex.
        for run in _DARK_RUNS.finditer(bytes(row).translate(_ROW_TEXT)):
            ops.append(f"{lefts[run.start()]} {top} {runs[run.end() - run.start()]}")
    ops.append("f Q")
    canvas._out("\n".join(ops))
    return module

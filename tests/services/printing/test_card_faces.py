"""The print-ready card: page and trim boxes, embedded fonts, Arabic in logical order with no
missing glyph, a QR code that decodes to the exact QR text with big enough modules and its quiet
zone, a 300 ppi photo, and long names kept inside the safe area."""

from __future__ import annotations

import io
import logging

import pytest

from tests.fixtures.pdfs import (
    MM,
    as_extracted,
    decoded_qr_texts,
    embedded_fonts,
    image_ppi,
    missing_glyphs,
    page_boxes,
    page_png,
    pdf_text,
    pdf_words,
)
from tests.services.printing.faces import BASE_URL, NAME_AR, make_face, token
from webapp.services.cards.qr import QUIET_ZONE_MODULES, card_qr
from webapp.services.cards.tokens import qr_text
from webapp.services.printing.canvas import Canvas
from webapp.services.printing.card_faces import (
    BOTTOM,
    LEFT,
    MIN_MODULE_MM,
    QR_BOX_MM,
    QR_X,
    QR_Y,
    RIGHT,
    TOP,
    CardFace,
    draw_back,
    photo_pixels,
    qr_code,
    qr_module_mm,
    render_cards_pdf,
)

LONG_LATIN = "Mohammed-Amine Abdelkrim Ben Abdeslam El Idrissi Ouazzani Alaoui"[:60]
LONG_ARABIC = "محمد الأمين عبد الكريم بن عبد السلام الإدريسي الوزاني العلوي لالة"[:60]


def render(*faces: CardFace) -> bytes:
    buffer = io.BytesIO()
    pages = render_cards_pdf(faces, buffer)
    assert pages == 2 * len(faces)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def card_pdf() -> bytes:
    return render(make_face())


def test_pages_are_id1_with_bleed_and_boxes(card_pdf):
    """Every page is 91.6 x 60 mm (MediaBox = BleedBox) with the 85.6 x 54 mm card as its TrimBox."""
    for boxes in page_boxes(card_pdf):
        assert boxes["mediabox"] == pytest.approx((0, 0, 91.6 * MM, 60 * MM), abs=0.01)
        assert boxes["bleedbox"] == pytest.approx(boxes["mediabox"], abs=0.01)
        assert boxes["trimbox"] == pytest.approx((3 * MM, 3 * MM, 88.6 * MM, 57 * MM), abs=0.01)


def test_fonts_are_embedded(card_pdf):
    """Every font the card uses is embedded (a printer has none of them)."""
    fonts = embedded_fonts(card_pdf)
    assert fonts and all(embedded for _name, embedded in fonts)
    assert {name.split("+")[-1] for name, _ in fonts} >= {"NotoSansBold", "NotoSansArabicBold"}


def test_front_text_in_both_scripts_in_logical_order(card_pdf):
    """The front's extracted text holds both names, trade, region, number and expiry; the Arabic in
    logical order (pdftotext reverses lam-alef's two letters, as_extracted allows for it)."""
    front = pdf_text(card_pdf, page=1)
    for expected in ("Abdellah El Alaoui", "Poterie et céramique", "Fès-Meknès", "7KQ3M 9X2AB", "04/05/2031"):
        assert expected in front.replace("\u00a0", " ")  # the number grouped as on every screen
    for arabic in (NAME_AR, "الفخار والخزف", "فاس مكناس", "البطاقة المهنية للصانع التقليدي"):
        assert as_extracted(arabic) in front


def test_latin_digits_inside_arabic_keep_their_order():
    """In an Arabic address, right to left: 12, then زنقة, then 30110 (its digits left to right),
    then فاس. Word boxes are read (pdftotext's own bidi misplaces numbers in RTL lines; the
    words of -bbox are in visual order, an Arabic word's letters reversed)."""
    pdf = render(make_face(chamber_address_ar="12 زنقة النور، 30110 فاس"))
    words = {word.text: word for word in pdf_words(pdf, 2)}
    street, city = words["ةقنز"], words["ساف"]
    assert words["12"].x_min > street.x_max
    assert street.x_min > words["30110"].x_max > words["30110"].x_min > city.x_max


def test_back_holds_url_chamber_and_address(card_pdf):
    """The back prints the verification URL in words and the chamber's name and address in both languages."""
    back = pdf_text(card_pdf, page=2)
    assert "carte.artisanat.ma/v" in back
    assert "Chambre d'Artisanat de la Région Fès-Meknès" in back
    assert "Fès, Maroc" in back
    assert as_extracted("غرفة الصناعة التقليدية لجهة فاس مكناس") in back


def test_every_character_has_a_glyph(card_pdf, caplog):
    """No character of the card's text lacks a glyph in the committed fonts, and fpdf2 reports none missing."""
    face = make_face()
    texts = [face.name_latin, face.name_ar, face.trade_fr, face.trade_ar, face.region_fr, face.region_ar]
    texts += [face.chamber_name_fr, face.chamber_name_ar, face.chamber_address_fr, face.chamber_address_ar]
    assert missing_glyphs("".join(texts) + pdf_text(card_pdf)) == set()
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        render(face)
    assert not [record for record in caplog.records if "glyph" in record.getMessage().lower()]


def test_back_qr_decodes_to_the_exact_qr_text(card_pdf):
    """The back page, rendered at 300 dpi, holds one QR code whose text is exactly the card's QR text."""
    face = make_face()
    assert decoded_qr_texts(page_png(card_pdf, 2, dpi=300)) == [face.qr_text]


def test_qr_symbol_is_the_one_qr_image_draws():
    """The printed symbol is module for module the one `cards qr-image` draws (same segments, ECC, mask)."""
    text_token = token()
    assert qr_code(qr_text(BASE_URL, text_token)).matrix == card_qr(BASE_URL, text_token).matrix


@pytest.mark.parametrize("name_length", [10, 40, 60])
def test_modules_are_big_enough(name_length):
    """At least 0.4 mm a module in the QR box, whatever the name's length."""
    code = qr_code(qr_text(BASE_URL, token("A" * name_length)))
    assert qr_module_mm(code) >= MIN_MODULE_MM


def test_quiet_zone_is_four_white_modules(card_pdf):
    """The box holds the symbol and 4 modules of white on every side (measured on the 300 dpi
    rendering: white all around the symbol, the finder patterns' dark corners just inside)."""
    code = qr_code(make_face().qr_text)
    module = qr_module_mm(code)
    assert code.symbol_size(border=QUIET_ZONE_MODULES)[0] * module == pytest.approx(QR_BOX_MM)
    image = page_png(card_pdf, 2, dpi=300).convert("L")
    px = 300 / 25.4

    def pixel(x_mm: float, y_mm: float) -> int:
        return image.getpixel((round(x_mm * px), round(y_mm * px)))

    quiet = QUIET_ZONE_MODULES * module
    steps = [QR_BOX_MM * k / 200 for k in range(201)]
    ring = [(QR_X + quiet * f, QR_Y + s) for f in (0.1, 0.5, 0.9) for s in steps]
    ring += [(QR_X + QR_BOX_MM - quiet * f, QR_Y + s) for f in (0.1, 0.5, 0.9) for s in steps]
    ring += [(QR_X + s, QR_Y + quiet * f) for f in (0.1, 0.5, 0.9) for s in steps]
    ring += [(QR_X + s, QR_Y + QR_BOX_MM - quiet * f) for f in (0.1, 0.5, 0.9) for s in steps]
    assert min(pixel(x, y) for x, y in ring) > 200
    corner = quiet + module / 2
    assert pixel(QR_X + corner, QR_Y + corner) < 60  # top-left finder
    assert pixel(QR_X + QR_BOX_MM - corner, QR_Y + corner) < 60  # top-right finder
    assert pixel(QR_X + corner, QR_Y + QR_BOX_MM - corner) < 60  # bottom-left finder


def test_photo_is_placed_at_300_ppi(card_pdf):
    """The stored photo (480 x 600) is resampled to its box at 300 ppi."""
    assert image_ppi(card_pdf) == [(300, 300)]
    assert photo_pixels(20.32, 25.4) == (240, 300)


def test_card_without_photo_gets_a_silhouette():
    """No photo on record: the card prints, with no image in it."""
    assert image_ppi(render(make_face(photo_jpeg=None))) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name_latin", LONG_LATIN),
        ("name_ar", LONG_ARABIC),
        ("trade_fr", "Ébénisterie de cèdre et marqueterie de thuya sculptée"),
        ("chamber_name_fr", "Chambre d'Artisanat de la Région " + "Laâyoune-Sakia El Hamra et environs"),
    ],
)
def test_long_text_stays_in_the_safe_area(field, value):
    """A 60-character name (or a long trade, a long chamber) shrinks or wraps, never past the safe area."""
    pdf = render(make_face(**{field: value}))
    for page in (1, 2):
        for word in pdf_words(pdf, page):
            # Horizontally the advance widths; vertically the line's middle (a word's box is the
            # font's whole ascent and descent, taller than any letter).
            assert word.x_min >= LEFT * MM - 0.3 and word.x_max <= RIGHT * MM + 0.3, (word, field)
            assert TOP * MM <= (word.y_min + word.y_max) / 2 <= BOTTOM * MM, (word, field)
    text = pdf_text(pdf).replace("\n", " ")
    for part in value.split():
        assert (as_extracted(part) if field == "name_ar" else part) in text


def test_cards_are_front_back_pairs_in_order():
    """Two cards give four pages: front 1, back 1, front 2, back 2 (duplex order)."""
    pdf = render(make_face(number="AAAAAAAAAA"), make_face(number="BBBBBBBBBB", name_latin="Khadija Bennani"))
    # The second card's labels, trade and chamber are replayed from the first's (Canvas.cached).
    for expected in (
        "Métier",
        "Poterie et céramique",
        "Chambre d'Artisanat de la Région Fès-Meknès",
        "Khadija Bennani",
    ):
        assert expected in pdf_text(pdf, 3) + pdf_text(pdf, 4)
    assert decoded_qr_texts(page_png(pdf, 4)) == [make_face(name_latin="Khadija Bennani").qr_text]
    texts = [pdf_text(pdf, page).replace("\u00a0", " ") for page in (1, 2, 3, 4)]  # numbers grouped 5 + 5
    assert [("AAAAA AAAAA" in text, "BBBBB BBBBB" in text) for text in texts] == [
        (True, False),
        (True, False),
        (False, True),
        (False, True),
    ]


def test_back_draws_nothing_outside_its_page():
    """draw_back on its own page (as batches call it) keeps the page count."""
    canvas = Canvas((91.6, 60), bleed_boxes=True)
    try:
        draw_back(canvas, make_face())
        assert canvas.pages_count == 1
    finally:
        canvas.close_fonts()

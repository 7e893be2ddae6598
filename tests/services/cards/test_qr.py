"""QR images: small enough for a printed card, readable by a real decoder, with a quiet zone."""

import base64
import io
from datetime import UTC, datetime

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image

from tests.fixtures.live import Phone
from webapp.services.cards.qr import QUIET_ZONE_MODULES, card_qr, card_qr_png, card_qr_svg
from webapp.services.cards.tokens import CardClaims, qr_text, sign_card_token

# The documented budget for PUBLIC_BASE_URL (26 characters), as in production.
BASE_URL = "https://carte.artisanat.ma"
KEY = ec.generate_private_key(ec.SECP256R1())


def token_for(name: str, trade: str = "MARO", index: int = 621_999) -> str:
    """A worst-case token: longest trade code, a six-digit index, a 10-digit expiry."""
    claims = CardClaims("ZZZZZZZZZZ", name, trade, "12", datetime(2031, 12, 31, 23, 59, 59, tzinfo=UTC), index)
    return sign_card_token(claims, "AbCdEf", KEY)


@pytest.mark.parametrize(("name_length", "max_version"), [(10, 11), (23, 11), (25, 11), (33, 12), (40, 12)])
def test_qr_version_stays_small(name_length, max_version):
    """Version 11 for names up to 25 characters and 12 for 40, at error correction level M."""
    code = card_qr(BASE_URL, token_for("A" * name_length))
    assert code.error == "M"
    assert code.version <= max_version


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("Abdelouahed Benabderrahmane Ait Oumoussa", 12),  # 40 ASCII letters: 40 bytes
        ("Àbdélóúàhéd Bénàbdérràhmàné Àít Óúmoussa", 12),  # the register's longest: 56 bytes
        ("É" * 40, 13),  # vector 50: 80 bytes (as JSON escapes it would need version 17)
    ],
    ids=["40-ascii", "56-bytes", "80-bytes"],
)
def test_the_qr_size_follows_the_names_utf8_bytes(name, version):
    """Rule Q1: the name is signed as UTF-8, not as JSON escapes; 56 bytes fit version 12 with a 7-digit index."""
    token = token_for(name, index=9_999_999)
    payload = base64.urlsafe_b64decode(token.split(".")[1] + "==")
    assert name.encode() in payload and b"\\u" not in payload
    assert card_qr(BASE_URL, token).version == version


def test_png_decodes_to_exactly_the_qr_text():
    """A real decoder (zxing-cpp) reads back exactly the QR text from the PNG."""
    token = token_for("Abderrahmane Ait Lahcen Oubella Ouazzani")
    image = Image.open(io.BytesIO(card_qr_png(BASE_URL, token, scale=4)))
    results = zxingcpp.read_barcodes(image)
    assert [result.text for result in results] == [qr_text(BASE_URL, token)]


def test_png_has_a_four_module_quiet_zone():
    """The white margin is four modules wide on every side."""
    token = token_for("Khadija Bennani")
    scale = 4
    image = Image.open(io.BytesIO(card_qr_png(BASE_URL, token, scale=scale))).convert("L")
    width, height = image.size
    modules = card_qr(BASE_URL, token).symbol_size(scale=1, border=0)[0]
    assert width == height == (modules + 2 * QUIET_ZONE_MODULES) * scale
    margin = QUIET_ZONE_MODULES * scale
    border_pixels = [
        image.getpixel((x, y))
        for x in range(width)
        for y in range(height)
        if x < margin or y < margin or x >= width - margin or y >= height - margin
    ]
    assert min(border_pixels) == 255
    assert image.getpixel((margin, margin)) == 0  # the finder pattern starts right after it


def test_svg_is_a_standalone_svg_document():
    """The SVG has the SVG namespace and no XML declaration, ready to embed in a page or a PDF."""
    svg = card_qr_svg(BASE_URL, token_for("Khadija Bennani")).decode("utf-8")
    assert svg.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg


def live_code_for(name: str) -> str:
    """A worst-case live code: the worst-case card bound to a phone at a seven-digit index, this window."""
    phone = Phone.new()
    expires = datetime(2031, 12, 31, 23, 59, 59, tzinfo=UTC)
    claims = CardClaims("ZZZZZZZZZZ", name, "MARO", "12", expires, 621_999, phone.device_key, 1_299_999)
    return phone.live_code(sign_card_token(claims, "AbCdEf", KEY), datetime.now(UTC))


@pytest.mark.parametrize(
    ("name", "max_version"),
    [("Khadija Bennani", 16), ("Abdelkader Mohammed Ben Abderrahmane Ali", 17), ("É" * 40, 18)],
    ids=["typical", "40-ascii", "40-accented"],
)
def test_a_live_code_stays_at_version_20_or_less(name, max_version):
    """The live QR code (byte URL, numeric digits, level M) of a 40-character name is version 20 at most."""
    code = card_qr(BASE_URL, live_code_for(name))
    assert code.error == "M"
    assert code.version <= max_version <= 20


def test_a_live_code_png_decodes_to_exactly_its_text():
    """A real decoder reads the live code's QR text back whole."""
    code = live_code_for("Abdelkader Mohammed Ben Abderrahmane Ali")
    image = Image.open(io.BytesIO(card_qr_png(BASE_URL, code, scale=4)))
    assert [result.text for result in zxingcpp.read_barcodes(image)] == [qr_text(BASE_URL, code)]

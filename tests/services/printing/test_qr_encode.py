"""The fast QR encoder makes exactly segno's symbols."""

from __future__ import annotations

import random

import pytest
import segno
from segno.consts import MODE_BYTE, MODE_NUMERIC

from webapp.services.printing import qr_encode


def card_segments(seed: int) -> list[tuple[str, int]]:
    rnd = random.Random(seed)
    digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(20, 900)))
    return [("https://carte.artisanat.ma/v#", MODE_BYTE), (digits, MODE_NUMERIC)]


def assert_same(content: object) -> None:
    ours = qr_encode.make(content)
    theirs = segno.make(content, error="m", boost_error=False, micro=False)
    assert (ours.version, ours.error, ours.mask, ours.matrix) == (
        theirs.version,
        theirs.error,
        theirs.mask,
        theirs.matrix,
    )


@pytest.mark.parametrize("seed", range(60))
def test_card_contents_match_segno(seed):
    """Card-like contents (URL bytes then digits, versions 2 to 21): same version, mask and modules."""
    assert_same(card_segments(seed))


@pytest.mark.parametrize("content", ["A", "12345", "https://carte.artisanat.ma/v", "x" * 300, "é" * 120, "ب" * 80])
def test_other_contents_match_segno(content):
    """Byte, numeric and short contents, as segno makes them."""
    assert_same(content)


def test_result_is_a_segno_qrcode():
    """The result is segno's QRCode (sizes, export) with segno's segments."""
    code = qr_encode.make(card_segments(1))
    assert isinstance(code, segno.QRCode)
    assert code.symbol_size(border=4)[0] == len(code.matrix) + 8

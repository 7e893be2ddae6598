"""The numpy-free fast mask choice gives exactly segno's symbols."""

from __future__ import annotations

import random

import pytest
import segno
import segno.encoder as encoder
from segno.consts import MODE_BYTE, MODE_NUMERIC

from webapp.services.printing import qr_masks


def segments(seed: int) -> list[tuple[str, int]]:
    rnd = random.Random(seed)
    digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(20, 700)))
    return [("https://carte.artisanat.ma/v#", MODE_BYTE), (digits, MODE_NUMERIC)]


def make(content, finder):
    original = encoder.find_and_apply_best_mask
    encoder.find_and_apply_best_mask = finder
    try:
        return segno.make(content, error="m", boost_error=False, micro=False)
    finally:
        encoder.find_and_apply_best_mask = original


@pytest.mark.parametrize("seed", range(40))
def test_same_mask_and_modules_as_segno(seed):
    """For QR codes of versions 2 to 17, the same mask and the same modules as segno's own choice."""
    content = segments(seed)
    ours = make(content, qr_masks.find_and_apply_best_mask)
    theirs = make(content, qr_masks._segno_find_and_apply_best_mask)
    assert (ours.mask, ours.matrix) == (theirs.mask, theirs.matrix)


@pytest.mark.parametrize("content", ["A", "https://carte.artisanat.ma/v", "x" * 300])
def test_other_contents_match_too(content):
    """Byte-mode and short contents, as segno makes them."""
    ours = make(content, qr_masks.find_and_apply_best_mask)
    theirs = make(content, qr_masks._segno_find_and_apply_best_mask)
    assert (ours.mask, ours.matrix) == (theirs.mask, theirs.matrix)

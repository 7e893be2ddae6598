"""The numpy-free fast mask choice gives exactly segno's symbols."""

from __future__ import annotations

import random

import pytest
import segno
import segno.encoder as encoder
from segno.consts import MODE_BYTE, MODE_NUMERIC

from webapp.services.printing import qr_masks

N3 = "1011101"


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


def segno_n3(joined: str, size: int, stride: int) -> int:
    """segno 1.6's search for 1:1:3:1:1 with 4 light modules on one side, step for step (its
    offsets decide overlapping matches); lines are joined by a gap that never matches."""
    count = 0
    index = joined.find(N3)
    while index != -1:
        start = index - index % stride
        local = index - start
        line = joined[start : start + size]
        offset = local + 7
        if local in (0, size - 7) or "1" not in line[max(local - 4, 0) : local] or "1" not in line[offset : offset + 4]:
            count += 40
        else:
            offset = local + 4
        index = joined.find(N3, start + offset)
    return count


@pytest.mark.parametrize("size", [21, 25, 45, 61])
@pytest.mark.parametrize("density", [0.5, 0.7])
def test_finder_like_patterns_counted_as_segno_scans(size, density):
    """N3 on packed bits equals segno's step-by-step scan (overlapping matches included) on random lines."""
    rnd = random.Random(size * 10 + int(density * 10))
    stride, total, _pairs = qr_masks._packing(size)
    for _ in range(300):
        lines = [bytes(int(rnd.random() < density) for _ in range(size)) for _ in range(size)]
        packed = qr_masks._pack(lines)
        assert qr_masks._n3(packed) == segno_n3(format(packed, f"0{total}b"), size, stride)

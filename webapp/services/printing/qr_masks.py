"""segno's choice of a QR code's data mask, computed on big ints: the same mask, many times faster.

segno (pure Python, module by module) spends most of a QR code's time trying the eight data
masks and scoring each (ISO/IEC 18004:2015, 7.8.3). Here the whole symbol is one Python int, its
rows one after the other, and another its columns (a mask is one XOR): N1 (runs), N2 (2x2
blocks), N3 (finder-like patterns, with segno's scan order for overlapping ones) and N4 (dark
share) are a few shifts, ANDs and bit counts on those ints. The scoring replicates segno
1.6's N1-N4 exactly, the lowest score winning, the first on a tie: a printed card's symbol is
module for module the one `cards qr-image` draws (tests/services/printing/test_qr_masks.py
compares both on many tokens). qr_encode calls it; anything else (Micro QR, a mask given by the
caller, a matrix that is not all 0/1) goes to segno's own. No numpy: it is not a dependency of
the product."""

from __future__ import annotations

from functools import cache
from typing import Any

import segno.encoder as encoder

_segno_find_and_apply_best_mask = encoder.find_and_apply_best_mask
_TO_CHARS = bytes.maketrans(b"\x00\x01", b"01")
_TO_BITS = bytes.maketrans(b"01", b"\x00\x01")


@cache
def _mask_layers(size: int) -> tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]:
    """For each of the 8 masks, the modules it flips (its condition AND segno's encoding region),
    as row ints and column ints (the leftmost / topmost module is the highest bit)."""
    function_matrix = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(function_matrix, size, size)
    encoder.add_alignment_patterns(function_matrix, size, size)
    function_matrix[-8][8] = 0x1
    conditions = (
        lambda i, j: (i + j) % 2 == 0,
        lambda i, j: i % 2 == 0,
        lambda i, j: j % 3 == 0,
        lambda i, j: (i + j) % 3 == 0,
        lambda i, j: (i // 2 + j // 3) % 2 == 0,
        lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
        lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
        lambda i, j: (((i + j) % 2) + (i * j) % 3) % 2 == 0,
    )
    layers = []
    for condition in conditions:
        grid = [[1 if function_matrix[i][j] > 0x1 and condition(i, j) else 0 for j in range(size)] for i in range(size)]
        rows = tuple(int("".join(map(str, row)), 2) for row in grid)
        columns = tuple(int("".join(str(grid[i][j]) for i in range(size)), 2) for j in range(size))
        layers.append((rows, columns))
    return tuple(layers)


# The whole symbol is one int: its lines (rows, or columns) one after the other, the first line
# in the highest bits, four 0 bits between lines: neither runs nor 1011101 (which holds no "00")
# cross from one line to the next, and the 4 modules looked at beside a 1011101 are light past
# the line's ends, as segno's clipped slices are. N1-N4 are a few operations on that int.
_GAP = 4


@cache
def _packing(size: int) -> tuple[int, int, int]:
    """(stride, total bits, the pairs mask): a pair bit k means bits k and k + 1
    both belong to one line (the first module of each line pairs with nothing before it)."""
    stride = size + _GAP
    pairs = int(("0" * _GAP).join(["0" + "1" * (size - 1)] * size), 2)
    total = size * stride - _GAP
    return stride, total, pairs


def _pack(lines: list[bytes]) -> int:
    """Lines of 0/1 bytes as one int (see _GAP)."""
    return int((b"\x00" * _GAP).join(lines).translate(_TO_CHARS), 2)


@cache
def _packed_layers(size: int) -> tuple[tuple[int, int], ...]:
    width = f"0{size}b"
    return tuple(
        (
            int(("0" * _GAP).join(format(row, width) for row in rows), 2),
            int(("0" * _GAP).join(format(column, width) for column in columns), 2),
        )
        for rows, columns in _mask_layers(size)
    )


def _n1(packed: int, pairs: int) -> int:
    """Runs of 5 + k same-coloured modules along lines: 3 + k points each. `same` marks modules
    equal to their neighbour; `five` marks 4 such pairs in a row (5 modules): a run of L has
    L - 4 of them, in one chain, and scores L - 2."""
    same = ~(packed ^ (packed >> 1)) & pairs
    five = same & (same >> 1) & (same >> 2) & (same >> 3)
    return five.bit_count() + 2 * (five & ~(five << 1)).bit_count()


def _n3(packed: int) -> int:
    """1:1:3:1:1 (1011101) with its 4 modules before or after light: 40 points each, as segno's
    scan counts them: after a match that scores it resumes 7 modules on, so a match overlapping
    it (4 or 6 on: 1011101 overlaps itself only so) is not seen; after one that does not, 4 on."""
    packed <<= _GAP  # past the last line, light modules too (as segno's clipped slices)
    matches = packed & ~(packed >> 1) & (packed >> 2) & (packed >> 3) & (packed >> 4) & ~(packed >> 5) & (packed >> 6)
    # `dark` marks a dark module among the 4 from it towards the line's end; a match's lowest bit b
    # has its 4 modules before at b + 7 .. b + 10 and its 4 after at b - 4 .. b - 1.
    dark = packed | (packed >> 1) | (packed >> 2) | (packed >> 3)
    scoring = matches & (~(dark >> 7) | ~(dark << 4))
    # The matches the scan sees: those without a seen, scoring match 4 or 6 before them (higher
    # bits). Overlap chains are short; each round settles one more link.
    seen = matches
    while True:
        hit = seen & scoring
        again = matches & ~((hit >> 4) | (hit >> 6))
        if again == seen:
            return 40 * (seen & scoring).bit_count()
        seen = again


def _score(rows: int, columns: int, size: int) -> int:
    stride, _total, pairs = _packing(size)
    n1 = _n1(rows, pairs) + _n1(columns, pairs)
    # N2: 2x2 blocks of one colour: a same-coloured pair whose neighbour line's pair is the same
    # colour as it.
    same = ~(rows ^ (rows >> 1)) & pairs
    n2 = 3 * (same & (same >> stride) & ~((rows ^ (rows >> stride)) >> 1)).bit_count()
    n3 = _n3(rows) + _n3(columns)
    dark = rows.bit_count()
    n4 = 10 * int(abs(float(dark) / (size**2) * 100 - 50) / 5)
    return n1 + n2 + n3 + n4


def find_and_apply_best_mask(matrix: Any, width: int, height: int, proposed_mask: int | None = None) -> Any:
    """Drop-in for segno.encoder.find_and_apply_best_mask."""
    if proposed_mask is not None or width != height or width < 21:
        return _segno_find_and_apply_best_mask(matrix, width, height, proposed_mask)
    row_texts = [bytes(row) for row in matrix]
    if any(text.strip(b"\x00\x01") for text in row_texts):
        return _segno_find_and_apply_best_mask(matrix, width, height, proposed_mask)
    rows = _pack(row_texts)
    columns = _pack([bytes(column) for column in zip(*row_texts, strict=True)])
    best: tuple[int, int, int] | None = None
    for number, (layer_rows, layer_columns) in enumerate(_packed_layers(width)):
        masked_rows = rows ^ layer_rows
        penalty = _score(masked_rows, columns ^ layer_columns, width)
        if best is None or penalty < best[0]:
            best = (penalty, number, masked_rows)
    assert best is not None
    _penalty, mask, masked = best
    stride, total, _pairs = _packing(width)
    text = format(masked, f"0{total}b").encode().translate(_TO_BITS)
    return mask, tuple(bytearray(text[start : start + width]) for start in range(0, total, stride))

"""segno's choice of a QR code's data mask, computed on bit rows: the same mask, several times faster.

segno (pure Python, module by module) spends ~80 % of a QR code's time trying the eight data
masks and scoring each (ISO/IEC 18004:2015, 7.8.3): ~25 ms for a card's code, most of the cost of
printing a card. Here each row and each column is one Python int (a mask is an XOR of ints) and
one '0'/'1' string (runs and the finder-like pattern are found by C-coded regex and str.find),
and the scoring replicates segno 1.6's N1-N4 exactly, the lowest score winning, the first on a
tie: a printed card's symbol is module for module the one `cards qr-image` draws
(tests/services/printing/test_qr_masks.py compares both on many tokens). `install()` puts it in
place of segno's function; anything else (Micro QR, a mask given by the caller, a matrix that is
not all 0/1) goes to segno's own. No numpy: it is not a dependency of the product.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import segno.encoder as encoder

_segno_find_and_apply_best_mask = encoder.find_and_apply_best_mask
_N3 = "1011101"
_RUNS = re.compile(r"0{5,}|1{5,}")
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


def _n1(joined: str) -> int:
    """Runs of 5 + k same-coloured modules along lines: 3 + k points each."""
    runs = _RUNS.findall(joined)
    return sum(map(len, runs)) - 2 * len(runs)


def _n3(joined: str, size: int) -> int:
    """segno's search for 1:1:3:1:1 with 4 light modules on one side, step for step (its
    offsets decide overlapping matches); lines are joined with a separator that never matches."""
    count = 0
    stride = size + 1
    index = joined.find(_N3)
    while index != -1:
        start = index - index % stride
        local = index - start
        line = joined[start : start + size]
        offset = local + 7
        if local in (0, size - 7) or "1" not in line[max(local - 4, 0) : local] or "1" not in line[offset : offset + 4]:
            count += 40
        else:
            offset = local + 4
        index = joined.find(_N3, start + offset)
    return count


def _score(rows: list[int], columns: list[int], size: int) -> int:
    width = f"0{size}b"
    row_text = "2".join(format(row, width) for row in rows)
    column_text = "2".join(format(column, width) for column in columns)
    n1 = _n1(row_text) + _n1(column_text)
    # N2: 2x2 blocks of one colour. `same` marks modules equal to their right-hand neighbour.
    pairs = (1 << (size - 1)) - 1
    full = (1 << size) - 1
    blocks = 0
    previous_same = None
    previous_row = 0
    for row in rows:
        same = ~(row ^ (row >> 1)) & pairs
        if previous_same is not None:
            blocks += (same & previous_same & ~((row ^ previous_row) >> 1) & full).bit_count()
        previous_same, previous_row = same, row
    n2 = 3 * blocks
    n3 = _n3(row_text, size) + _n3(column_text, size) if _N3 in row_text or _N3 in column_text else 0
    dark = sum(row.bit_count() for row in rows)
    n4 = 10 * int(abs(float(dark) / (size**2) * 100 - 50) / 5)
    return n1 + n2 + n3 + n4


def find_and_apply_best_mask(matrix: Any, width: int, height: int, proposed_mask: int | None = None) -> Any:
    """Drop-in for segno.encoder.find_and_apply_best_mask."""
    if proposed_mask is not None or width != height or width < 21:
        return _segno_find_and_apply_best_mask(matrix, width, height, proposed_mask)
    row_texts = [bytes(row) for row in matrix]
    if any(text.strip(b"\x00\x01") for text in row_texts):
        return _segno_find_and_apply_best_mask(matrix, width, height, proposed_mask)
    rows = [int(text.translate(_TO_CHARS), 2) for text in row_texts]
    columns = [int(bytes(column).translate(_TO_CHARS), 2) for column in zip(*row_texts, strict=True)]
    best: tuple[int, int, list[int]] | None = None
    for number, (layer_rows, layer_columns) in enumerate(_mask_layers(width)):
        masked_rows = [row ^ flip for row, flip in zip(rows, layer_rows, strict=True)]
        masked_columns = [column ^ flip for column, flip in zip(columns, layer_columns, strict=True)]
        penalty = _score(masked_rows, masked_columns, width)
        if best is None or penalty < best[0]:
            best = (penalty, number, masked_rows)
    assert best is not None
    _penalty, mask, masked = best
    text_width = f"0{width}b"
    return mask, tuple(bytearray(format(row, text_width).encode().translate(_TO_BITS)) for row in masked)


def install() -> None:
    """Make segno choose masks with this module (idempotent; same results, same process)."""
    encoder.find_and_apply_best_mask = find_and_apply_best_mask

"""A card's QR code made as segno makes it, module for module, without its slowest steps.

segno (pure Python) spends ~6 ms on a card's code (version 11): Reed-Solomon bit by bit, the
codewords placed module by module along the zigzag, the eight masks scored module by module.
Here the steps that do not depend on the data are done once per version and kept: the zigzag's
order of the data modules, and Reed-Solomon as a table (the error codewords are linear over
GF(2) in the data bytes, so each block's are the XOR of one precomputed int per data byte); the
mask is chosen by qr_masks (same choice as segno, on bit rows). Everything else is segno's own
code: the segments' bits, the version, the format and version information. Only full QR codes
without a given mask go this way; tests/services/printing/test_qr_encode.py compares the
matrices with segno.make's on many contents.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from itertools import zip_longest
from operator import itemgetter

import segno
from segno import consts
from segno import encoder as segno_encoder

from webapp.services.printing import qr_masks

_REMAINDER_BITS = {
    **dict.fromkeys((2, 3, 4, 5, 6), 7),
    **dict.fromkeys((14, 15, 16, 17, 18, 19, 20, 28, 29, 30, 31, 32, 33, 34), 3),
    **dict.fromkeys((21, 22, 23, 24, 25, 26, 27), 4),
}


def make(content: object, error: str = "m") -> segno.QRCode:
    """segno.make(content, error=error, boost_error=False, micro=False), faster."""
    error_level = segno_encoder.normalize_errorlevel(error)
    segments = segno_encoder.prepare_data(content, None, None)
    version = segno_encoder.find_version(segments, error_level, eci=False, micro=False)
    buffer = segno_encoder.Buffer()
    version_range = segno_encoder.version_range(version)
    for segment in segments:
        segno_encoder.write_segment(buffer, segment, None, version_range, False)
    capacity = consts.SYMBOL_CAPACITY[version][error_level]
    segno_encoder.write_terminator(buffer, capacity, None, len(buffer))
    segno_encoder.write_padding_bits(buffer, version, len(buffer))
    segno_encoder.write_pad_codewords(buffer, version, capacity, len(buffer))
    bits = bytes(buffer.getbits())
    data = int(bits.translate(_BITS_TO_CHARS), 2).to_bytes(len(bits) // 8)
    message = _final_message(version, error_level, data)
    size = segno_encoder.calc_matrix_size(version)
    template, place = _layout(version)
    # Every module picked at once (C speed) from the message's bits followed by the template.
    modules = bytes(place(message + template))
    matrix = tuple(bytearray(modules[start : start + size]) for start in range(0, size * size, size))
    mask, matrix = qr_masks.find_and_apply_best_mask(matrix, size, size)
    segno_encoder.add_format_info(matrix, version, error_level, mask)
    segno_encoder.add_version_info(matrix, version)
    return segno.QRCode(segno_encoder.Code(matrix, version, error_level, mask, segments))


_BITS_TO_CHARS = bytes.maketrans(b"\x00\x01", b"01")


def _final_message(version: int, error: int, data: bytes) -> bytes:
    """The interleaved data and error codewords as one 0/1 byte per bit, remainder bits included."""
    data_blocks: list[bytes] = []
    error_blocks: list[bytes] = []
    offset = 0
    for ec_info in consts.ECC[version][error]:
        num_error = ec_info.num_total - ec_info.num_data
        table = _rs_table(ec_info.num_data, num_error)
        for _block in range(ec_info.num_blocks):
            block = data[offset : offset + ec_info.num_data]
            offset += ec_info.num_data
            data_blocks.append(block)
            remainder = 0
            for position, value in enumerate(block):
                remainder ^= table[position][value]
            error_blocks.append(remainder.to_bytes(num_error))
    codewords = bytes(
        value
        for blocks in (data_blocks, error_blocks)
        for column in zip_longest(*blocks)
        for value in column
        if value is not None
    )
    text = format(int.from_bytes(codewords), f"0{8 * len(codewords)}b")
    return text.encode().translate(_CHARS_TO_BITS) + b"\x00" * _REMAINDER_BITS.get(version, 0)


_CHARS_TO_BITS = bytes.maketrans(b"01", b"\x00\x01")


@cache
def _rs_table(num_data: int, num_error: int) -> tuple[tuple[int, ...], ...]:
    """table[position][value]: the error codewords (as one int) of a block holding only `value`
    at `position`; a block's are the XOR of its bytes' (Reed-Solomon is linear)."""
    rows = []
    for position in range(num_data):
        # The eight single-bit blocks by segno's own division, then every byte as XORs of those.
        basis = []
        for bit in range(8):
            block = bytearray(num_data)
            block[position] = 1 << bit
            basis.append(_rs_remainder(bytes(block), num_error))
        row = [0] * 256
        for value in range(1, 256):
            low = value & -value
            row[value] = row[value ^ low] ^ basis[low.bit_length() - 1]
        rows.append(tuple(row))
    return tuple(rows)


def _rs_remainder(block: bytes, num_error: int) -> int:
    """segno's extended synthetic division (segno.encoder.make_blocks) of one block."""
    gen = consts.GEN_POLY[num_error]
    gen_log, gen_exp = consts.GALIOS_LOG, consts.GALIOS_EXP
    work = bytearray(block) + bytearray(num_error)
    for k in range(len(block)):
        coef = work[k]
        if coef:
            lcoef = gen_log[coef]
            for n in range(num_error):
                work[k + n + 1] ^= gen_exp[lcoef + gen[n]]
    return int.from_bytes(work[len(block) :])


@cache
def _layout(version: int) -> tuple[bytes, Callable[[bytes], tuple[int, ...]]]:
    """The matrix before the data, flat (function patterns set, 0x2 where data goes), and a picker
    that, given the final message's bits followed by that template, returns every module of the
    symbol in row order: the data modules follow segno's zigzag (segno.encoder.add_codewords)."""
    size = segno_encoder.calc_matrix_size(version)
    matrix = segno_encoder.make_matrix(size, size)
    segno_encoder.add_finder_patterns(matrix, size, size)
    segno_encoder.add_alignment_patterns(matrix, size, size)
    order = []
    for right in range(size - 1, 0, -2):
        if right <= 6:
            right -= 1
        for vertical in range(size):
            for z in range(2):
                j = right - z
                upwards = ((right & 2) == 0) ^ (j < 6)
                i = (size - 1 - vertical) if upwards else vertical
                if matrix[i][j] == 0x2:
                    order.append(i * size + j)
    data_modules = len(order)
    source = [data_modules + index for index in range(size * size)]  # the template's own module
    for bit, index in enumerate(order):
        source[index] = bit
    template = b"".join(bytes(row) for row in matrix)
    return template, itemgetter(*source)

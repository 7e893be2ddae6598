"""Join the PDF parts of a print batch into one PDF, fast.

pypdf's PdfWriter.append parses and deep-copies every object (~2 ms a page on this machine: 30,000
pages of a 10,000-card batch would take a minute, the whole time budget of the batch). The parts
are written by our own renderer (fpdf2: a classic cross-reference table, one flat page tree, no
object streams, no encryption), so their objects are copied here as bytes: each object is renumbered
(its header and the references outside its stream), the parts' catalogs, page trees and info
dictionaries are dropped, and one page tree lists every page in order. Page dictionaries are copied
whole: TrimBox, BleedBox and resources travel with them. Any part of another shape (a PDF not made
by fpdf2) is joined by pypdf instead, so the result is always right, only slower.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pypdf import PdfReader, PdfWriter

from webapp.services.errors import N_, DomainError

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_SUBSECTION = re.compile(rb"(\d+) (\d+)\s*\n")
_REFERENCE = re.compile(rb"(\d+) 0 R\b")
_HEADER = re.compile(rb"(\d+) 0 obj\b")
_TRAILER_REF = re.compile(rb"/(Root|Info) (\d+) 0 R")
_PAGES_REF = re.compile(rb"/Pages (\d+) 0 R")
_KIDS = re.compile(rb"/Kids\s*\[([^\]]*)\]")
# What a page inherits from its page tree (ISO 32000-1, 7.7.3.4) and the tree of an fpdf2 PDF holds.
_INHERITED = re.compile(rb"/(MediaBox|CropBox) (\[[^\]]*\])|/(Rotate) (-?\d+)")


class NotSimplePdf(DomainError):
    """A part this joiner does not copy as bytes (pypdf joins it). It never reaches anyone (the
    joiner falls back on pypdf); translated all the same, as every refusal is."""

    code = "pdf_not_simple"
    message = N_("Not a PDF this joiner copies as bytes: %(reason)s.")


@dataclass
class _Part:
    data: bytes
    spans: dict[int, tuple[int, int]]  # object number -> (start, end) of "n 0 obj ... endobj"
    pages: list[int]  # page objects, in order
    inherited: dict[bytes, bytes]  # entries of the page tree its pages inherit (/MediaBox ...)
    skipped: set[int]  # catalog, page tree, info
    size: int  # the trailer's /Size: object numbers are below it


def _parse(data: bytes) -> _Part:
    found = _STARTXREF.search(data[-64:])
    if found is None:
        raise NotSimplePdf(reason="no startxref")
    position = int(found.group(1))
    if data[position : position + 4] != b"xref":
        raise NotSimplePdf(reason="a cross-reference stream")
    position += 4
    offsets: dict[int, int] = {}
    while True:
        while data[position : position + 1] in (b"\n", b"\r", b" "):
            position += 1
        if data.startswith(b"trailer", position):
            break
        subsection = _SUBSECTION.match(data, position)
        if subsection is None:
            raise NotSimplePdf(reason="a damaged cross-reference table")
        first, count = int(subsection.group(1)), int(subsection.group(2))
        position = subsection.end()
        for index in range(count):
            entry = data[position : position + 20]
            position += 20
            if entry[17:18] == b"n":
                if entry[11:16] != b"00000":
                    raise NotSimplePdf(reason="an object of another generation")
                offsets[first + index] = int(entry[:10])
    trailer = data[position : data.rfind(b"startxref")]
    if b"/Prev" in trailer or b"/Encrypt" in trailer:
        raise NotSimplePdf(reason="an updated or encrypted PDF")
    references = dict((name, int(number)) for name, number in _TRAILER_REF.findall(trailer))
    size = re.search(rb"/Size (\d+)", trailer)
    if b"Root" not in references or size is None:
        raise NotSimplePdf(reason="no catalog")
    ordered = sorted(offsets.items(), key=lambda item: item[1])
    xref_at = data.rfind(b"xref", 0, len(data) - len(trailer))
    spans: dict[int, tuple[int, int]] = {}
    for index, (number, start) in enumerate(ordered):
        end = ordered[index + 1][1] if index + 1 < len(ordered) else xref_at
        spans[number] = (start, end)
    root = references[b"Root"]
    catalog = _body(data, spans[root])
    pages_ref = _PAGES_REF.search(catalog)
    if pages_ref is None:
        raise NotSimplePdf(reason="no page tree")
    tree = int(pages_ref.group(1))
    tree_body = _body(data, spans[tree])
    kids = _KIDS.search(tree_body)
    if kids is None or b"/Resources" in tree_body:
        raise NotSimplePdf(reason="no page list, or resources inherited from the page tree")
    inherited = {
        (found.group(1) or found.group(3)): (found.group(2) or found.group(4))
        for found in _INHERITED.finditer(tree_body)
    }
    pages = [int(number) for number in _REFERENCE.findall(kids.group(1))]
    for page in pages:
        if b"/Type /Page\n" not in _body(data, spans[page]) and b"/Type /Page>" not in _body(data, spans[page]):
            raise NotSimplePdf(reason="a nested page tree")
    skipped = {root, tree} | ({references[b"Info"]} if b"Info" in references else set())
    return _Part(data, spans, pages, inherited, skipped, int(size.group(1)))


def _body(data: bytes, span: tuple[int, int]) -> bytes:
    """An object's dictionary part (before its stream, if any)."""
    start, end = span
    stream = data.find(b"stream", start, end)
    return data[start : stream if stream != -1 else end]


def join_pdfs(sources: Sequence[Path], target: BinaryIO) -> int:
    """Write one PDF of every page of `sources`, in order, into `target`; returns the pages."""
    try:
        parts = [_parse(Path(source).read_bytes()) for source in sources]
    except NotSimplePdf:
        return _join_with_pypdf(sources, target)
    written = 0
    offsets: list[tuple[int, int]] = []

    def write(chunk: bytes) -> None:
        nonlocal written
        target.write(chunk)
        written += len(chunk)

    write(b"%PDF-1.4\n%\xe9\xeb\xf1\xbf\n")
    # 1: the page tree, 2: the catalog; each part's objects after, shifted by its base.
    base = 2
    kids: list[bytes] = []
    for part in parts:
        shift = base
        pages = set(part.pages)
        for number in sorted(part.spans):
            if number in part.skipped:
                continue
            start, end = part.spans[number]
            stream = part.data.find(b"stream", start, end)
            head = part.data[start : stream if stream != -1 else end]
            tail = part.data[stream:end] if stream != -1 else b""
            head = _HEADER.sub(lambda found, s=shift: b"%d 0 obj" % (int(found.group(1)) + s), head, count=1)
            head = _REFERENCE.sub(
                lambda found, s=shift, p=part: (
                    b"1 0 R" if int(found.group(1)) in p.skipped else b"%d 0 R" % (int(found.group(1)) + s)
                ),
                head,
            )
            if number in pages:
                # The dropped page tree's inheritable entries go into each page that lacks them.
                missing = b"".join(
                    b"/%s %s\n" % (key, value) for key, value in part.inherited.items() if b"/" + key not in head
                )
                head = head.replace(b"<<", b"<<\n" + missing, 1) if missing else head
            offsets.append((number + shift, written))
            write(head)
            write(tail)
            if not tail.endswith(b"\n"):
                write(b"\n")
        kids += [b"%d 0 R" % (page + shift) for page in part.pages]
        base += part.size
    offsets.append((1, written))
    write(b"1 0 obj\n<<\n/Type /Pages\n/Count %d\n/Kids [" % len(kids) + b"\n".join(kids) + b"]\n>>\nendobj\n")
    offsets.append((2, written))
    write(b"2 0 obj\n<<\n/Type /Catalog\n/Pages 1 0 R\n>>\nendobj\n")
    by_number = dict(offsets)
    size = base
    xref_at = written
    lines = [b"xref\n0 %d\n" % size, b"0000000000 65535 f \n"]
    for number in range(1, size):
        offset = by_number.get(number)
        lines.append(b"%010d 00000 n \n" % offset if offset is not None else b"0000000000 00000 f \n")
    write(b"".join(lines))
    write(b"trailer\n<<\n/Size %d\n/Root 2 0 R\n>>\nstartxref\n%d\n%%%%EOF\n" % (size, xref_at))
    return len(kids)


def _join_with_pypdf(sources: Sequence[Path], target: BinaryIO) -> int:
    writer = PdfWriter()
    for source in sources:
        writer.append(PdfReader(source), import_outline=False)
    writer.write(target)
    return len(writer.pages)

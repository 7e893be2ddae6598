"""Joining a batch's PDF parts (webapp/services/printing/pdf_join.py): every page in order, each
with its own boxes and the size its part's page tree gave it; other PDFs are joined by pypdf."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PdfReader

from webapp.services.printing import pdf_join
from webapp.services.printing.pdf_join import NotSimplePdf, _parse, join_pdfs


def fpdf_part(path: Path, label: str, pages: int, size: tuple[float, float]) -> Path:
    pdf = FPDF(unit="mm", format=size)
    pdf.set_font("helvetica", size=8)
    for index in range(pages):
        pdf.add_page()
        pdf.text(5, 10, f"{label}-{index}")
    pdf.output(str(path))
    return path


def test_parts_are_joined_in_order_with_their_page_sizes(tmp_path):
    """Pages of each part in order; each keeps its part's media box; the result reads strictly."""
    parts = [
        fpdf_part(tmp_path / "a.pdf", "A", 3, (85.6, 54)),
        fpdf_part(tmp_path / "b.pdf", "B", 2, (210, 297)),
        fpdf_part(tmp_path / "c.pdf", "C", 1, (85.6, 54)),
    ]
    target = io.BytesIO()
    assert join_pdfs(parts, target) == 6
    reader = PdfReader(io.BytesIO(target.getvalue()), strict=True)
    texts = [page.extract_text().strip() for page in reader.pages]
    assert texts == ["A-0", "A-1", "A-2", "B-0", "B-1", "C-0"]
    widths = [round(float(page.mediabox.width)) for page in reader.pages]
    assert widths == [243, 243, 243, 595, 595, 243]


def test_a_pdf_of_another_shape_is_joined_by_pypdf(tmp_path, monkeypatch):
    """An updated PDF is not copied as bytes; a part the joiner refuses is joined by pypdf."""
    part = fpdf_part(tmp_path / "a.pdf", "A", 2, (85.6, 54))
    with pytest.raises(NotSimplePdf):
        _parse(part.read_bytes().replace(b"trailer\n<<", b"trailer\n<<\n/Prev 0", 1))

    def refuse(_data: bytes) -> None:
        raise NotSimplePdf(reason="test")

    monkeypatch.setattr(pdf_join, "_parse", refuse)
    target = io.BytesIO()
    assert join_pdfs([part, part], target) == 4
    assert [page.extract_text().strip() for page in PdfReader(io.BytesIO(target.getvalue())).pages] == [
        "A-0",
        "A-1",
        "A-0",
        "A-1",
    ]


@pytest.mark.parametrize("data", [b"", b"not a pdf", b"%PDF-1.4\nstartxref\n999\n%%EOF\n"])
def test_what_is_not_a_simple_pdf_is_said_so(data):
    """Garbage, or a cross-reference elsewhere than said, is not copied as bytes."""
    with pytest.raises(NotSimplePdf):
        _parse(data)

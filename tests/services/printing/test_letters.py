"""The card letter: one A4 page per artisan, French and Arabic, with the activation code, how to
use the card and the chamber; delivered to the artisan's address or collected at the chamber."""

from __future__ import annotations

import io

import pytest

from tests.fixtures.pdfs import MM, as_extracted, embedded_fonts, missing_glyphs, pdf_text, pdf_words
from tests.services.printing.faces import NAME_AR, make_letter
from webapp.services.printing.letters import render_letters_pdf


def render(*letters) -> bytes:
    buffer = io.BytesIO()
    assert render_letters_pdf(letters, buffer) == len(letters)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def letter_pdf() -> bytes:
    return render(make_letter())


def test_letter_says_who_the_code_and_how(letter_pdf):
    """Names in both scripts, the address, the card number, the code, the activation URL and the chamber."""
    text = pdf_text(letter_pdf)
    for expected in ("Abdellah El Alaoui", "12, derb Lalla Aicha", "30110 Fès", "7KQ3M 9X2AB", "K7QM-92XA-3B"):
        assert expected in text.replace("\u00a0", " ")  # the card number grouped as on every screen
    assert "carte.artisanat.ma/card/activate" in text
    assert "date de naissance" in text and "Chambre d'Artisanat de la Région Fès-Meknès" in text
    for arabic in (NAME_AR, "رمز التفعيل", "تاريخ ازديادكم", "غرفة الصناعة التقليدية لجهة فاس مكناس"):
        assert as_extracted(arabic) in text


def test_no_address_means_collected_at_the_chamber():
    """Without a delivery address, the letter says to collect the card at the chamber, with its address."""
    text = pdf_text(render(make_letter(delivery_address=None)))
    assert "À retirer à la chambre" in text and "Fès, Maroc" in text


def test_one_page_per_letter_and_fonts_embedded():
    """Three letters, three A4 pages; every font embedded; every character has a glyph."""
    pdf = render(make_letter(), make_letter(card_number="BBBBBBBBBB"), make_letter(delivery_address=None))
    assert "BBBBB BBBBB" in pdf_text(pdf, 2).replace("\u00a0", " ")  # grouped as on every screen
    assert all(embedded for _name, embedded in embedded_fonts(pdf))
    assert missing_glyphs(pdf_text(pdf)) == set()


def test_long_name_stays_on_the_page():
    """A 60-character name shrinks inside the page's margins."""
    pdf = render(make_letter(name_latin="Mohammed-Amine Abdelkrim Ben Abdeslam El Idrissi Ouazzani Al"))
    assert all(word.x_min >= 10 * MM and word.x_max <= 200 * MM for word in pdf_words(pdf, 1))

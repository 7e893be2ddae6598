"""The officer's "download the card (PDF)": the print-ready card of an artisan's card in force,
for a card a verifier accepts today, in the officer's region only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.backoffice.conftest import OFFICER_REGION
from tests.fixtures.pdfs import as_extracted, decoded_qr_texts, page_boxes, page_png, pdf_text
from tests.fixtures.support import TEST_ACTOR
from webapp.models import RevocationReason, utcnow
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.tokens import qr_text


@pytest.fixture
def card(session, make_artisan, make_card):
    artisan = make_artisan(region_code=OFFICER_REGION, first_name_ar="عبد الله", last_name_ar="العلاوي")
    return make_card(artisan)


def pdf_url(card) -> str:
    return f"/office/artisans/{card.artisan_id}/cards/{card.number}/card.pdf"


def test_the_artisan_page_offers_the_download(as_officer, card):
    """The artisan's page links to the card's PDF, in French and Arabic."""
    for language, words in (("fr", "Télécharger la carte (PDF)"), ("ar", "تنزيل البطاقة (PDF)")):
        html = as_officer.get(f"/office/artisans/{card.artisan_id}", language=language).get_data(as_text=True)
        assert f'href="{pdf_url(card)}"' in html and words in html


def test_the_pdf_is_the_print_ready_card(app, as_officer, card):
    """A two-page attachment: the names, ID-1 boxes, and a QR code that decodes to the card's QR text."""
    response = as_officer.get(pdf_url(card))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="card-{card.number}.pdf"'
    assert "no-store" in response.headers["Cache-Control"]
    pdf = response.data
    assert len(page_boxes(pdf)) == 2
    assert as_extracted("عبد الله العلاوي") in pdf_text(pdf, 1)
    assert decoded_qr_texts(page_png(pdf, 2)) == [qr_text(app.config["PUBLIC_BASE_URL"], card.token)]


def test_an_administrator_downloads_any_region(as_admin, card):
    assert as_admin.get(pdf_url(card)).status_code == 200


def test_another_regions_card_is_not_found(as_officer, make_artisan, make_card):
    """An officer asking for another region's card gets 404, as if it did not exist."""
    other = make_card(make_artisan(region_code="07"))
    assert as_officer.get(pdf_url(other)).status_code == 404


@pytest.mark.parametrize("state", ["suspended", "revoked", "expired"])
def test_a_card_that_would_not_verify_is_not_printed(session, as_officer, card, state):
    """Suspended, revoked or expired: refused (409) and no link on the page."""
    if state == "suspended":
        card_service.suspend_card(session, card, "test", TEST_ACTOR)
    elif state == "revoked":
        card_service.revoke_card(session, card, RevocationReason.FRAUD, TEST_ACTOR)
    else:
        card.issued_at = utcnow() - timedelta(days=800)
        card.expires_at = utcnow() - timedelta(days=1)
    session.commit()
    response = as_officer.get(pdf_url(card))
    assert response.status_code in (404, 409)
    assert response.mimetype != "application/pdf"
    html = as_officer.get(f"/office/artisans/{card.artisan_id}").get_data(as_text=True)
    assert pdf_url(card) not in html

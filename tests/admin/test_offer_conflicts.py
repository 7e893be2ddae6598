"""A decision on an offer from a page that is out of date is refused: an administrator never
approves what they have not seen (services/concurrency.py)."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.fixtures.support import TEST_ACTOR, csrf_token_from, version_fields_from
from webapp.models import AuditEvent, Offer, OfferState
from webapp.services.partners.offers import change_offer_state


def test_approving_from_an_out_of_date_page_is_refused(admin_client, session, make_offer):
    """The offer was sent back and submitted again after the page was shown: the approval is
    refused (409) with the offer as it now stands, and nothing is written."""
    offer = make_offer(state=OfferState.SUBMITTED)
    page = admin_client.get(f"/admin/offers/{offer.id}").get_data(as_text=True)
    shown = {**version_fields_from(page), "csrf_token": csrf_token_from(page)}
    assert shown["version"] == str(offer.version)  # the button names it
    change_offer_state(session, offer, "send_back", TEST_ACTOR, reason="Texte arabe incomplet")
    change_offer_state(session, offer, "submit", TEST_ACTOR)
    session.commit()
    approvals = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "offer.approve")
    response = admin_client.post(f"/admin/offers/{offer.id}/approve?lang=fr", data=shown)
    assert response.status_code == 409
    assert "a modifié cette fiche" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Offer, offer.id).state == OfferState.SUBMITTED and session.scalar(approvals) == 0

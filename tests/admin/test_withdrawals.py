"""Withdrawals: one offer taken from one card (the card itself unchanged), listed, confirmed, given back;
the partner's verify API then answers "not eligible" with the reason."""

import pytest
from sqlalchemy import select

from tests.admin.conftest import audit_count
from tests.conftest import TEST_ACTOR
from webapp.models import AuditEvent, CardStatus, OfferState, OfferWithdrawal, RevocationReason, Role
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.numbers import format_card_number
from webapp.services.cards.tokens import qr_text

REASON = "Fraude sur les tarifs d'envoi"


@pytest.fixture
def parcel_offer(make_organisation, make_offer):
    return make_offer(make_organisation("Barid Test"), name="Colis national")


def withdraw(forms, card_text, offer_id, reason=REASON, language="fr"):
    return forms.post(
        "/admin/withdrawals", "/admin/withdrawals", {"card": card_text, "offer": offer_id, "reason": reason}, language
    )


@pytest.mark.parametrize(("language", "direction"), [("fr", "ltr"), ("ar", "rtl")])
def test_the_form_offers_approved_offers_grouped_by_partner(
    admin_client, make_organisation, make_offer, parcel_offer, language, direction
):
    """The offer select holds approved offers only, one optgroup per partner."""
    draft = make_offer(parcel_offer.organisation, state=OfferState.DRAFT)
    lender_offer = make_offer(make_organisation("Crédit Test"), name="Microcrédit")
    page = admin_client.get(f"/admin/withdrawals?lang={language}").get_data(as_text=True)
    assert f'dir="{direction}"' in page
    assert '<optgroup label="Barid Test">' in page and '<optgroup label="Crédit Test">' in page
    assert f'value="{parcel_offer.id}"' in page and f'value="{lender_offer.id}"' in page
    assert f'value="{draft.id}"' not in page


@pytest.mark.parametrize(
    "typed", ["{number}", "{grouped}", "{lower}", " {grouped} "], ids=["plain", "as-printed", "lower", "spaces"]
)
def test_withdrawing_confirms_holder_and_offer_and_is_audited(forms, session, make_card, parcel_offer, admin, typed):
    """The card number as printed (grouped, any case) finds the card; the confirmation names holder and offer."""
    card = make_card()
    text = typed.format(number=card.number, grouped=format_card_number(card.number), lower=card.number.lower())
    response = withdraw(forms, text, parcel_offer.id)
    assert response.status_code == 302
    withdrawal = session.scalars(select(OfferWithdrawal)).one()
    assert response.headers["Location"] == f"/admin/withdrawals/{withdrawal.id}"
    assert (
        withdrawal.card_id == card.id and withdrawal.reason == REASON and withdrawal.withdrawn_by == f"user:{admin.id}"
    )
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "offer.withdraw_from_card")).one()
    assert event.actor_user_id == admin.id and event.card_id == card.id and event.reason == REASON
    page = forms.client.get(response.headers["Location"]).get_data(as_text=True)
    assert card.artisan.name_latin in page and card.artisan.name_ar in page
    assert "Colis national" in page and format_card_number(card.number) in page and admin.display_name in page


@pytest.mark.parametrize(("language", "direction"), [("fr", "ltr"), ("ar", "rtl")])
def test_the_confirmation_and_the_list_read_in_each_language(
    forms, session, make_card, parcel_offer, admin, language, direction
):
    """Confirmation page and list of withdrawals in force: card, holder, offer, partner, reason, who."""
    card = make_card()
    location = withdraw(forms, card.number, parcel_offer.id).headers["Location"]
    confirmation = forms.client.get(f"{location}?lang={language}").get_data(as_text=True)
    assert f'dir="{direction}"' in confirmation
    listing = forms.client.get(f"/admin/withdrawals?lang={language}").get_data(as_text=True)
    row = listing[listing.index(format_card_number(card.number)) :]
    row = row[: row.index("</tr>")]
    holder = card.artisan.name_ar if language == "ar" else card.artisan.name_latin
    for text in (
        holder,
        parcel_offer.name(language),
        "Barid Test",
        "Fraude sur les tarifs d&#39;envoi",
        admin.display_name,
    ):
        assert text in row


@pytest.mark.parametrize(
    ("card_text", "reason", "field", "message"),
    [
        ("", REASON, "card", "Ce champ est requis"),
        ("NOTACARD", REASON, "card", "Aucune carte ne porte le numéro"),
        ("0000000000", REASON, "card", "Aucune carte ne porte le numéro"),
        ("{wrong_check}", REASON, "card", "Aucune carte ne porte le numéro"),
        ("{number}", "", "reason", "Un motif est obligatoire"),
        ("{number}", "   ", "reason", "Un motif est obligatoire"),
    ],
    ids=["blank-card", "not-a-number", "unknown-card", "bad-check-character", "blank-reason", "spaces-reason"],
)
def test_bad_inputs_are_refused_on_their_field_and_nothing_is_written(
    forms, session, make_card, parcel_offer, card_text, reason, field, message
):
    """An unknown card or a blank reason: 422 with the translated refusal under its field; nothing written."""
    card = make_card()
    wrong_check = card.number[:-1] + ("0" if card.number[-1] != "0" else "1")
    before = audit_count(session)
    response = withdraw(forms, card_text.format(number=card.number, wrong_check=wrong_check), parcel_offer.id, reason)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = page[page.index(f'id="{field}-errors"') :]
    assert message in errors[: errors.index("</ul>")].replace("\u202f", " ")
    assert session.scalars(select(OfferWithdrawal)).all() == [] and audit_count(session) == before


@pytest.mark.parametrize("state", [OfferState.DRAFT, OfferState.PAUSED, OfferState.RETIRED])
def test_an_offer_that_is_not_approved_cannot_be_chosen(forms, session, make_card, make_offer, state):
    """Only approved offers are in the select: another id is refused by the form, nothing written."""
    offer = make_offer(state=state)
    response = withdraw(forms, make_card().number, offer.id)
    assert response.status_code == 422 and session.scalars(select(OfferWithdrawal)).all() == []


def test_withdrawing_twice_is_refused(forms, session, make_card, parcel_offer):
    """The same offer withdrawn again from the same card: the translated refusal, one withdrawal only."""
    card = make_card()
    assert withdraw(forms, card.number, parcel_offer.id).status_code == 302
    response = withdraw(forms, card.number, parcel_offer.id)
    assert response.status_code == 422
    assert "Cette offre est déjà retirée de la carte" in response.get_data(as_text=True)
    assert len(session.scalars(select(OfferWithdrawal)).all()) == 1


def test_giving_back_lifts_the_withdrawal_and_is_audited(forms, session, make_card, parcel_offer, admin):
    """ "Give back" ends the withdrawal (kept, dated), writes an audit event and empties the list."""
    card = make_card()
    location = withdraw(forms, card.number, parcel_offer.id).headers["Location"]
    withdrawal = session.scalars(select(OfferWithdrawal)).one()
    response = forms.post(location, f"/admin/withdrawals/{withdrawal.id}/lift", {})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/withdrawals"
    session.expire_all()
    assert session.get(OfferWithdrawal, withdrawal.id).lifted_at is not None
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "offer.lift_withdrawal")).one()
    assert event.actor_user_id == admin.id and event.card_id == card.id
    listing = forms.client.get("/admin/withdrawals").get_data(as_text=True)
    assert f"/admin/withdrawals/{withdrawal.id}/lift" not in listing
    # Given back already: a second give-back is refused, nothing more written.
    before = audit_count(session)
    again = forms.post("/admin/withdrawals", f"/admin/withdrawals/{withdrawal.id}/lift", {})
    assert again.status_code == 422 and audit_count(session) == before


def test_every_post_needs_the_csrf_token(admin_client, session, make_card, parcel_offer):
    """Withdrawing and giving back without the CSRF token: 400, nothing written."""
    card = make_card()
    before = audit_count(session)
    refused = admin_client.post(
        "/admin/withdrawals", data={"card": card.number, "offer": parcel_offer.id, "reason": REASON}
    )
    assert refused.status_code == 400 and session.scalars(select(OfferWithdrawal)).all() == []
    assert admin_client.post("/admin/withdrawals/1/lift").status_code == 400
    assert audit_count(session) == before


def test_the_partners_verify_api_shows_the_withdrawal_as_the_failed_condition(
    app, forms, session, make_card, make_api_key, parcel_offer
):
    """After a withdrawal, POST /api/v1/verify by that partner: the offer is not eligible, the reason its failed
    label; the card itself stays valid; given back, the offer is eligible again."""
    card = make_card()
    key = make_api_key(parcel_offer.organisation).plaintext
    scanned = qr_text(app.config["PUBLIC_BASE_URL"], card.token)
    partner_system = app.test_client()  # no cookie: the API key alone says who calls

    def offers():
        answer = partner_system.post(
            "/api/v1/verify?lang=fr", json={"qr": scanned}, headers={"Authorization": f"Bearer {key}"}
        )
        assert answer.status_code == 200 and answer.get_json()["verdict"] == "valid"
        return {offer["id"]: offer for offer in answer.get_json()["offers"]}

    assert offers()[parcel_offer.id]["eligible"] is True
    location = withdraw(forms, format_card_number(card.number), parcel_offer.id).headers["Location"]
    standing = offers()[parcel_offer.id]
    assert standing["eligible"] is False and standing["failed"] == [REASON]
    withdrawal_id = int(location.rsplit("/", 1)[1])
    forms.post(location, f"/admin/withdrawals/{withdrawal_id}/lift", {})
    assert offers()[parcel_offer.id] | {"remaining": None} == {
        **standing,
        "eligible": True,
        "failed": [],
        "remaining": None,
    }


@pytest.mark.parametrize("role", [Role.OFFICER, Role.PARTNER_MANAGER])
def test_other_roles_cannot_withdraw(client, auth, session, make_user, make_card, parcel_offer, role):
    """Only administrators withdraw offers: others get 403 and nothing is written."""
    from tests.fixtures.support import csrf_token_from

    auth.login(make_user(role))
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    data = {"card": make_card().number, "offer": parcel_offer.id, "reason": REASON, "csrf_token": token}
    assert client.post("/admin/withdrawals", data=data).status_code == 403
    assert session.scalars(select(OfferWithdrawal)).all() == []


@pytest.mark.parametrize(
    ("status", "said", "not_said"),
    [
        (CardStatus.ACTIVE, "La carte elle-même reste valide.", "révoquée"),
        (CardStatus.REVOKED, "La carte elle-même est révoquée", "reste valide"),
        (CardStatus.SUSPENDED, "La carte elle-même est suspendue", "reste valide"),
    ],
)
def test_the_confirmation_tells_what_the_card_itself_is(
    forms, session, make_card, parcel_offer, status, said, not_said
):
    """A revoked or suspended card is never said to "stay valid": the sentence follows the card's status."""
    card = make_card()
    if status == CardStatus.REVOKED:
        card_service.revoke_card(session, card, RevocationReason.FRAUD, TEST_ACTOR)
    if status == CardStatus.SUSPENDED:
        card_service.suspend_card(session, card, "Enquête", TEST_ACTOR)
    session.commit()
    response = withdraw(forms, card.number, parcel_offer.id)
    page = forms.client.get(response.headers["Location"] + "?lang=fr").get_data(as_text=True)
    flash = page[page.index('class="flash flash-success"') :]
    flash = flash[: flash.index("</p>")].replace("&#39;", "'")
    assert said in flash and not_said not in flash

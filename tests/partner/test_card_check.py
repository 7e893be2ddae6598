"""Checking a card by number in the portal: its verdict and only this partner's offers."""

import pytest
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from tests.fixtures.factories import CNSS_REGISTERED
from webapp.models import CardCheck, CnssStatus, RevocationReason, Role
from webapp.services.cards import lifecycle as card_service


@pytest.fixture
def agent(make_user, make_organisation):
    return make_user(Role.PARTNER_AGENT, organisation=make_organisation())


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_an_agent_sees_the_verdict_and_their_offers_only(client, auth, agent, make_offer, make_card, language):
    """A valid card: the verdict, the holder's name, and each of the partner's offers with its standing."""
    own = make_offer(agent.organisation, name="Colis national", quota=(20, "month"))
    make_offer(name="Offre d'un autre partenaire")
    card = make_card()
    auth.login(agent)
    page = client.get(f"/partner/check?card={card.number.lower()}&lang={language}").get_data(as_text=True)
    assert card.artisan.name_latin in page and own.name(language) in page
    assert "Offre d'un autre partenaire" not in page
    # The page's direction (the Arabic name is always right-to-left, in either language).
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in page
    assert "20" in page  # redemptions left this month


def test_failed_conditions_are_listed_by_label(client, auth, agent, make_offer, make_artisan, make_card):
    """A holder who does not meet a condition sees the offer not eligible, with the condition's label."""
    make_offer(agent.organisation, conditions=[CNSS_REGISTERED])
    card = make_card(artisan=make_artisan(cnss_status=CnssStatus.NOT_REGISTERED))
    auth.login(agent)
    page = client.get(f"/partner/check?card={card.number}&lang=en").get_data(as_text=True)
    assert "not eligible" in page and "CNSS registered" in page


def test_a_revoked_card_is_eligible_for_nothing(client, auth, session, agent, make_offer, make_card):
    """The verdict says revoked and no offer is eligible."""
    make_offer(agent.organisation)
    card = make_card()
    card_service.revoke_card(session, card, RevocationReason.STOLEN, TEST_ACTOR)
    session.commit()
    auth.login(agent)
    page = client.get(f"/partner/check?card={card.number}&lang=en").get_data(as_text=True)
    assert "Revoked" in page and "not eligible" in page and ">eligible<" not in page


@pytest.mark.parametrize(("typed", "status"), [("12", 422), ("<script>", 422), ("0000000000", 404)])
def test_bad_numbers_get_a_clear_answer(client, auth, agent, typed, status):
    """A malformed or unknown number is said so on the form, never a 500."""
    auth.login(agent)
    response = client.get("/partner/check", query_string={"card": typed, "lang": "en"})
    assert response.status_code == status
    assert "<script>" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.OFFICER, Role.ARTISAN, Role.ADMIN])
def test_only_partner_staff_check_cards_here(client, auth, make_user, role):
    """Other roles are refused (403); anonymous people are sent to sign in."""
    assert client.get("/partner/check").status_code == 302
    auth.login(make_user(role))
    assert client.get("/partner/check").status_code == 403


@pytest.mark.parametrize(("language", "label"), [("fr", "Où je vérifie (facultatif)"), ("ar", "أين أتحقق (اختياري)")])
def test_the_form_has_an_optional_place_kept_for_the_next_card(
    client, auth, session, agent, make_card, language, label
):
    """The place field is offered (never required), recorded cleaned with the check and kept filled in."""
    card = make_card()
    auth.login(agent)
    empty = client.get(f"/partner/check?lang={language}").get_data(as_text=True)
    assert label in empty and 'name="place" value="" dir="auto"' in empty
    query = {"card": card.number, "place": "  Stand\t12,  Salon de Fès ", "lang": language}
    page = client.get("/partner/check", query_string=query).get_data(as_text=True)
    assert 'name="place" value="Stand 12, Salon de Fès"' in page
    check = session.scalars(select(CardCheck)).one()
    assert check.place == "Stand 12, Salon de Fès"


def test_the_public_number_form_has_no_place(client):
    """Only partner staff record where they check: the public form offers no place."""
    assert 'name="place"' not in client.get("/check").get_data(as_text=True)


@pytest.mark.parametrize(("language", "message"), [("fr", "vérifiez la saisie"), ("ar", "تحقق من الكتابة")])
def test_a_mistyped_check_character_asks_to_check_for_a_typo(client, auth, agent, make_card, language, message):
    """Ten letters and digits whose check character does not match: 'check for a typo', as on /check."""
    from webapp.services.cards.numbers import ALPHABET

    number = make_card().number
    mistyped = number[:-1] + next(char for char in ALPHABET if char != number[-1])
    auth.login(agent)
    response = client.get("/partner/check", query_string={"card": mistyped, "lang": language})
    assert response.status_code == 422 and message in response.get_data(as_text=True)

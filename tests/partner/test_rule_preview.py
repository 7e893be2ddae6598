"""The offer form's preview of a rule (POST /partner/offers/preview): the count of card holders it
admits today and the rule in words for a manager; 400 with a reason for what cannot be saved;
nothing for anyone else. And the rule in plain words on the form, the offer page and the admin's."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token_from
from webapp.models import OfferState, Role

NB = "\u00a0"
PREVIEW = "/partner/offers/preview"
FES = {"label": {"fr": "Fès", "ar": "فاس", "en": "Fez"}, "logic": {"==": [{"var": "card.region"}, "03"]}}
TWO_YEARS = {
    "label": {"fr": "2 ans", "ar": "سنتان", "en": "2 years"},
    "logic": {">=": [{"-": [{"year": {"var": "today"}}, {"var": "artisan.activity_start_year"}]}, 2]},
}


def token_of(client) -> str:
    return csrf_token_from(client.get("/partner/offers/new").get_data(as_text=True))


def preview(client, body, language="fr", token=None):
    headers = {"X-CSRFToken": token if token is not None else token_of(client)}
    return client.post(f"{PREVIEW}?lang={language}", json=body, headers=headers)


def test_a_manager_gets_the_count_and_the_words(client, auth, partner, make_artisan, make_card):
    """Valid cards of Fès-Meknès are counted against all valid cards, and the rule is said in words."""
    make_card(make_artisan(region_code="03"))
    make_card(make_artisan(region_code="03"))
    make_card(make_artisan(region_code="07"))
    auth.login(partner.manager)
    response = preview(client, {"conditions": [FES]})
    assert response.status_code == 200
    answer = response.get_json()
    assert (answer["admitted"], answer["valid_cards"]) == (2, 3)
    assert answer["words"] == [f"Région{NB}: Fès-Meknès"]
    assert answer["summary"] == "2 titulaires sur 3 sont admis aujourd’hui."


def test_the_words_are_in_the_managers_language(client, auth, partner):
    """In Arabic the words and the count are Arabic."""
    auth.login(partner.manager)
    answer = preview(client, {"conditions": [FES, TWO_YEARS]}, language="ar").get_json()
    assert answer["words"] == ["الجهة: فاس مكناس", "سنوات النشاط: 2 على الأقل"]
    assert answer["summary"].startswith("حاملو البطاقات المقبولون اليوم")


def test_no_condition_admits_every_valid_card(client, auth, partner, make_card):
    """An empty rule counts every valid card."""
    make_card()
    auth.login(partner.manager)
    answer = preview(client, {"conditions": []}).get_json()
    assert answer["admitted"] == answer["valid_cards"] == 1 and answer["words"] == []


@pytest.mark.parametrize(
    ("body", "error", "reason"),
    [
        ("not json", "bad_request", "bad_request"),
        ([], "bad_request", "bad_request"),
        ({"rules": []}, "bad_request", "bad_request"),
        ({"conditions": {}}, "invalid_rule", "malformed"),
        (
            {"conditions": [{"label": FES["label"], "logic": {"==": [{"var": "x.y"}, 1]}}]},
            "invalid_rule",
            "unknown_variable",
        ),
        (
            {"conditions": [{"label": FES["label"], "logic": {"==": [{"var": "card.region"}, "3"]}}]},
            "invalid_rule",
            "bad_value",
        ),
        ({"conditions": [{"label": FES["label"], "logic": {"cat": ["a", "b"]}}]}, "invalid_rule", "unknown_operator"),
        ({"conditions": [{"label": {"fr": "x"}, "logic": True}]}, "invalid_rule", "bad_label"),
        (
            {"conditions": [{"label": FES["label"], "logic": {"==": [{"var": "card.region"}, 3]}}]},
            "invalid_rule",
            "type_mismatch",
        ),
        ({"conditions": [FES] * 21}, "invalid_rule", "too_large"),
        ({"conditions": [], "pad": "x" * 60_000}, "bad_request", "too_large"),
    ],
)
def test_bad_input_answers_400_with_a_reason(client, auth, partner, body, error, reason):
    """What cannot be read or saved answers 400 with the error, its reason code and a translated message."""
    auth.login(partner.manager)
    token = token_of(client)
    if isinstance(body, str):
        response = client.post(PREVIEW, data=body, content_type="application/json", headers={"X-CSRFToken": token})
    else:
        response = preview(client, body, token=token)
    assert response.status_code == 400
    answer = response.get_json()
    assert (answer["error"], answer["reason"]) == (error, reason)
    assert answer["message"]


def test_the_preview_needs_the_csrf_token(client, auth, partner):
    """Without the CSRF token (or with a forged one) the preview answers 400."""
    auth.login(partner.manager)
    assert client.post(PREVIEW, json={"conditions": []}).status_code == 400
    assert preview(client, {"conditions": []}, token="forged").status_code == 400


@pytest.mark.parametrize("role", [Role.PARTNER_AGENT, Role.OFFICER, Role.ADMIN, Role.ARTISAN])
def test_only_partner_managers_may_preview(client, auth, partner, make_user, role):
    """Agents and every other role get 403, even with a valid CSRF token."""
    person = partner.agent if role == Role.PARTNER_AGENT else make_user(role)
    auth.login(person)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    assert client.post(PREVIEW, json={"conditions": []}, headers={"X-CSRFToken": token}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    """Without a session the preview leads to the sign-in page."""
    response = client.post(PREVIEW, json={"conditions": []})
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]


def test_the_form_carries_the_editors_and_the_words(client, auth, partner, make_offer):
    """The draft's form has both editors, the raw JSON under "Advanced", and the rule in words."""
    draft = make_offer(partner.organisation, state=OfferState.DRAFT, conditions=[FES, TWO_YEARS])
    auth.login(partner.manager)
    page = client.get(f"/partner/offers/{draft.id}/edit?lang=fr").get_data(as_text=True)
    assert "data-condition-editor" in page and "data-field-editor" in page
    assert 'data-preview-url="/partner/offers/preview"' in page
    assert "Avancé" in page and 'name="conditions"' in page and 'name="fields"' in page
    assert f"<li>Région{NB}: Fès-Meknès</li>" in page
    assert "js/partner/condition-editor.js" in page and "js/partner/field-editor.js" in page


def test_the_offer_pages_say_the_rule_in_words(client, auth, partner, make_offer, make_user):
    """The manager's offer page and the administrator's decision page show the rule in plain words."""
    offer = make_offer(partner.organisation, state=OfferState.SUBMITTED, conditions=[FES, TWO_YEARS])
    auth.login(partner.manager)
    page = client.get(f"/partner/offers/{offer.id}?lang=ar").get_data(as_text=True)
    assert "الجهة: فاس مكناس" in page and "سنوات النشاط: 2 على الأقل" in page
    client.post("/logout", data={"csrf_token": token_of(client)})
    auth.login(make_user(Role.ADMIN))
    page = client.get(f"/admin/offers/{offer.id}?lang=fr").get_data(as_text=True)
    assert f"Région{NB}: Fès-Meknès" in page and f"Années d’activité{NB}: au moins 2" in page

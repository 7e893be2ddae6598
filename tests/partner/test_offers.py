"""Offers in the portal: new drafts (from scratch or an example), edits of drafts only, refusals on
the field they concern with nothing written, isolation between partners, and the audit trail."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR, csrf_token_from
from tests.fixtures.support import version_fields_from
from tests.partner.conftest import field_errors
from webapp.models import AuditEvent, Offer, OfferState
from webapp.services.partners.offers import change_offer_state

TODAY = date.today()
GOOD = {
    "name_fr": "Colis express",
    "name_ar": "طرد سريع",
    "name_en": "Express parcel",
    "benefit_fr": "-10 % sur l'express",
    "benefit_ar": "-10 % على البريد السريع",
    "benefit_en": "-10% on express parcels",
    "description_fr": "",
    "description_ar": "",
    "description_en": "",
    "valid_from": TODAY.isoformat(),
    "valid_until": "",
    "quota_count": "5",
    "quota_period": "month",
    "conditions": json.dumps(
        [
            {
                "label": {"fr": "Inscrit à la CNSS", "ar": "مسجل في الضمان الاجتماعي", "en": "CNSS registered"},
                "logic": {"==": [{"var": "artisan.cnss_status"}, "registered"]},
            }
        ]
    ),
    "fields": json.dumps(
        [{"name": "weight_kg", "type": "number", "label": {"fr": "Poids", "ar": "الوزن", "en": "Weight"}, "max": 30}]
    ),
}


def post_offer(client, path: str, **changes: str):
    html = client.get(path).get_data(as_text=True)
    return client.post(path, data={**version_fields_from(html), **GOOD, **changes, "csrf_token": csrf_token_from(html)})


def test_a_manager_creates_a_draft(client, auth, partner, session, audit_actions):
    """A valid form creates one draft of the manager's organisation, audited, and leads to it."""
    auth.login(partner.manager)
    response = post_offer(client, "/partner/offers/new")
    offer = session.scalars(select(Offer)).one()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/partner/offers/{offer.id}")
    assert offer.state == OfferState.DRAFT and offer.organisation_id == partner.organisation.id
    assert offer.name_ar == "طرد سريع" and offer.quota_count == 5 and offer.fields[0]["name"] == "weight_kg"
    assert offer.conditions[0]["label"]["en"] == "CNSS registered"
    assert audit_actions() == ["offer.create"]


def test_an_example_fills_the_form(client, auth, partner):
    """?example=lender fills the texts, the conditions and the fields with the lender's example."""
    auth.login(partner.manager)
    html = client.get("/partner/offers/new?example=lender").get_data(as_text=True)
    assert 'value="Micro-crédit d&#39;équipement"' in html and "amount_mad" in html and "artisan.cnss_status" in html
    assert '<option selected value="lender">' in html


def test_an_unknown_example_leaves_the_form_empty(client, auth, partner):
    """An example that does not exist is ignored: the form is empty, not an error."""
    auth.login(partner.manager)
    response = client.get("/partner/offers/new?example=bank-robber")
    assert response.status_code == 200 and "amount_mad" not in response.get_data(as_text=True)


BAD_OFFERS = [
    ({"conditions": "[{"}, "conditions", "Ce n'est pas du JSON valide (ligne 1, colonne 3)."),
    ({"fields": "{'name': 1}"}, "fields", "Ce n'est pas du JSON valide"),
    # Deeper than Python's parser follows (a RecursionError): refused like other bad JSON, not a 500.
    ({"conditions": "[" * 1500}, "conditions", "Ce n'est pas du JSON valide"),
    ({"conditions": '{"label": {}}'}, "conditions", "a rule is a list of conditions"),
    (
        {"conditions": '[{"label": {"fr": "a", "ar": "b", "en": "c"}, "logic": {"==": [{"var": "x.salary"}, 1]}}]'},
        "conditions",
        "unknown variable",
    ),
    ({"conditions": '[{"label": {"fr": "a"}, "logic": true}]'}, "conditions", "condition 1, label"),
    ({"fields": '[{"name": "Weight", "type": "number"}]'}, "fields", "Champs d'utilisation : field 1"),
    ({"fields": '[{"name": "w", "type": "colour", "label": {}}]'}, "fields", "type must be one of"),
    ({"name_fr": ""}, "name_fr", ""),
    ({"benefit_ar": "   "}, "benefit_ar", ""),
    ({"name_en": "x" * 121}, "name_en", ""),
    ({"valid_from": "tomorrow"}, "valid_from", ""),
    ({"valid_from": ""}, "valid_from", ""),
    (
        {"valid_until": (TODAY - timedelta(days=1)).isoformat()},
        "valid_until",
        "la fin de la période de validité est avant son début",
    ),
    ({"quota_period": ""}, "quota_count", "indiquez à la fois"),
    ({"quota_count": "0"}, "quota_count", "de 1 à 10 000 utilisations"),
    ({"quota_count": "many"}, "quota_count", ""),
    ({"quota_period": "week"}, "quota_period", ""),
]


@pytest.mark.parametrize("changes,field,message", BAD_OFFERS)
def test_a_refused_offer_shows_the_problem_on_its_field(
    client, auth, partner, session, audit_actions, changes, field, message
):
    """A bad value gets 422 with the (translated) problem under its field, and nothing is written."""
    auth.login(partner.manager)
    response = post_offer(client, "/partner/offers/new", **changes)
    # without the bidi isolates around the values put into the sentence
    page = response.get_data(as_text=True).replace("\u2068", "").replace("\u2069", "")
    errors = field_errors(page, field)
    assert response.status_code == 422
    assert errors and message in " ".join(errors)
    assert session.scalar(select(func.count()).select_from(Offer)) == 0 and audit_actions() == []


@pytest.mark.parametrize("changes,field,message", BAD_OFFERS[:8])
def test_a_refused_edit_writes_nothing(
    client, auth, partner, session, make_offer, audit_actions, changes, field, message
):
    """Editing a draft with a bad rule or bad fields is refused the same way; the draft is unchanged."""
    draft = make_offer(partner.organisation, state=OfferState.DRAFT)
    before = audit_actions()
    auth.login(partner.manager)
    response = post_offer(client, f"/partner/offers/{draft.id}/edit", **changes)
    assert response.status_code == 422 and field_errors(response.get_data(as_text=True), field)
    session.expire_all()
    assert session.get(Offer, draft.id).version == draft.version and audit_actions() == before


AR_RULE_REFUSED = "قاعدة الأهلية هذه غير صالحة"


def test_the_arabic_form_shows_the_arabic_message(client, auth, partner):
    """The sentence around a rule's problem is in the reader's language."""
    auth.login(partner.manager)
    client.get("/partner/?lang=ar")
    response = post_offer(client, "/partner/offers/new", conditions='{"label": {}}')
    errors = field_errors(response.get_data(as_text=True), "conditions")
    assert response.status_code == 422 and errors[0].startswith(AR_RULE_REFUSED)


def test_a_manager_edits_a_draft(client, auth, partner, session, make_offer, audit_actions):
    """The edit form shows the draft; saving rewrites it, audited as an update."""
    draft = make_offer(partner.organisation, state=OfferState.DRAFT)
    auth.login(partner.manager)
    assert draft.name_fr in client.get(f"/partner/offers/{draft.id}/edit").get_data(as_text=True)
    response = post_offer(client, f"/partner/offers/{draft.id}/edit", name_fr="Nouveau nom")
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Offer, draft.id).name_fr == "Nouveau nom"
    assert audit_actions()[-1] == "offer.update"


def test_editing_keeps_the_texts_when_an_example_is_chosen(client, auth, partner, make_offer):
    """On a draft, an example replaces the conditions and fields only."""
    draft = make_offer(partner.organisation, state=OfferState.DRAFT)
    auth.login(partner.manager)
    html = client.get(f"/partner/offers/{draft.id}/edit?example=market_organiser").get_data(as_text=True)
    assert f'value="{draft.name_fr}"' in html and "card.region" in html and 'value="Stand au salon' not in html


@pytest.mark.parametrize("state", [OfferState.SUBMITTED, OfferState.APPROVED, OfferState.RETIRED])
def test_only_a_draft_can_be_edited(client, auth, partner, make_offer, state):
    """The edit screen of an offer past its draft answers 409 with the reason, GET or POST."""
    offer = make_offer(partner.organisation, state=state)
    auth.login(partner.manager)
    response = client.get(f"/partner/offers/{offer.id}/edit")
    assert response.status_code == 409 and "brouillon" in response.get_data(as_text=True)
    token = csrf_token_from(client.get("/partner/offers/new").get_data(as_text=True))
    response = client.post(f"/partner/offers/{offer.id}/edit", data={**GOOD, "csrf_token": token})
    assert response.status_code == 409


@pytest.mark.parametrize("path", ["/partner/offers/{id}", "/partner/offers/{id}/edit"])
def test_another_partners_offer_is_not_found(client, auth, make_partner, make_offer, path):
    """A manager of partner A gets 404 for partner B's offer, as for one that does not exist."""
    a, b = make_partner(), make_partner()
    offer = make_offer(b.organisation, state=OfferState.DRAFT)
    auth.login(a.manager)
    assert client.get(path.format(id=offer.id)).status_code == 404


@pytest.mark.parametrize("action", ["submit", "retire"])
def test_another_partners_offer_cannot_be_changed(client, auth, make_partner, make_offer, session, action):
    """Submitting or retiring partner B's offer answers 404 and changes nothing."""
    a, b = make_partner(), make_partner()
    offer = make_offer(b.organisation, state=OfferState.DRAFT)
    auth.login(a.manager)
    token = csrf_token_from(client.get("/partner/offers/new").get_data(as_text=True))
    response = client.post(f"/partner/offers/{offer.id}/{action}", data={"csrf_token": token, "reason": "x"})
    assert response.status_code == 404
    session.expire_all()
    assert session.get(Offer, offer.id).state == OfferState.DRAFT


def test_submitting_and_retiring_leave_audit_events(client, auth, partner, make_offer, audit_actions, session):
    """Each state change made in the portal writes its audit event, with the manager as actor."""
    draft = make_offer(partner.organisation, state=OfferState.DRAFT)
    auth.login(partner.manager)
    for action, data in (("submit", {}), ("retire", {"reason": "season over"})):
        # Each button sent from the page as it stands (the version it shows).
        html = client.get(f"/partner/offers/{draft.id}").get_data(as_text=True)
        sent = {**version_fields_from(html), **data, "csrf_token": csrf_token_from(html)}
        client.post(f"/partner/offers/{draft.id}/{action}", data=sent)
    assert audit_actions()[-2:] == ["offer.submit", "offer.retire"]
    actors = session.scalars(select(AuditEvent.actor_user_id).where(AuditEvent.offer_id == draft.id)).all()
    assert actors[-2:] == [partner.manager.id, partner.manager.id]


# --- deleting a draft ----------------------------------------------------------------------------


def test_a_manager_deletes_a_draft(client, auth, partner, make_offer, audit_actions, session):
    """Confirmation page, then POST: gone from the offers (404 on its page), audited, the row kept."""
    draft = make_offer(partner.organisation, state=OfferState.DRAFT, name="Brouillon à jeter")
    auth.login(partner.manager)
    assert f"/partner/offers/{draft.id}/delete" in client.get(f"/partner/offers/{draft.id}").get_data(as_text=True)
    page = client.get(f"/partner/offers/{draft.id}/delete?lang=fr")
    assert page.status_code == 200 and "Supprimer le brouillon" in page.get_data(as_text=True)
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post(f"/partner/offers/{draft.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/partner/offers")
    listed = client.get("/partner/offers").get_data(as_text=True)
    assert "Le brouillon Brouillon à jeter est supprimé." in listed and f'/partner/offers/{draft.id}"' not in listed
    assert client.get(f"/partner/offers/{draft.id}").status_code == 404
    assert audit_actions()[-1] == "offer.delete"
    session.expire_all()
    assert session.get(Offer, draft.id).deleted_at is not None


def _submitted_then_sent_back(session, offer):
    change_offer_state(session, offer, "submit", TEST_ACTOR)
    change_offer_state(session, offer, "send_back", TEST_ACTOR, reason="texts")
    session.commit()


def _redeemed(session, offer, make_card, make_redemption, partner):
    make_redemption(offer, make_card(), partner.agent)


@pytest.mark.parametrize("history", ["approved", "submitted", "sent_back", "retired", "redeemed"])
def test_only_a_draft_never_submitted_nor_used_can_be_deleted(
    client, auth, partner, make_offer, make_card, make_redemption, session, history
):
    """Submitted, approved, retired, sent back after a submission, or with a redemption: 409, kept."""
    state = {"approved": OfferState.APPROVED, "submitted": OfferState.SUBMITTED, "retired": OfferState.RETIRED}
    offer = make_offer(partner.organisation, state=state.get(history, OfferState.DRAFT))
    if history == "sent_back":
        _submitted_then_sent_back(session, offer)
    if history == "redeemed":
        _redeemed(session, offer, make_card, make_redemption, partner)
    auth.login(partner.manager)
    assert f"/partner/offers/{offer.id}/delete" not in client.get(f"/partner/offers/{offer.id}").get_data(as_text=True)
    assert client.get(f"/partner/offers/{offer.id}/delete").status_code == 409
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    response = client.post(f"/partner/offers/{offer.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/partner/offers/{offer.id}")
    session.expire_all()
    assert session.get(Offer, offer.id).deleted_at is None


def test_another_partners_draft_cannot_be_deleted(client, auth, partner, make_partner, make_offer, session):
    """404 for a draft of another organisation; it stays."""
    theirs = make_offer(make_partner().organisation, state=OfferState.DRAFT)
    auth.login(partner.manager)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    assert client.post(f"/partner/offers/{theirs.id}/delete", data={"csrf_token": token}).status_code == 404
    session.expire_all()
    assert session.get(Offer, theirs.id).deleted_at is None


# --- every problem at once, by its label --------------------------------------------------------


ALL_AT_ONCE = [
    (
        {"valid_until": "2000-01-01", "quota_count": "0", "conditions": "[{", "fields": "[]x"},
        ["valid_until", "quota_count", "conditions", "fields"],
    ),
    (
        {"name_ar": "", "benefit_en": "", "quota_count": "many", "valid_from": "demain"},
        ["name_ar", "benefit_en", "quota_count", "valid_from"],
    ),
    (
        {"valid_until": "2000-01-01", "quota_period": "", "conditions": '{"label": {}}', "fields": '[{"name": "W"}]'},
        ["valid_until", "quota_count", "conditions", "fields"],
    ),
]
LABELS = {
    "fr": {
        "valid_until": "Valable jusqu'au",
        "quota_count": "Utilisations par carte",
        "valid_from": "Valable à partir du",
    },
    "ar": {"valid_until": "صالحة إلى غاية", "quota_count": "الاستفادات لكل بطاقة", "valid_from": "صالح ابتداءً من"},
}
ENGLISH = ["Not a valid", "This field is required", "Field must be", "required", "valid_until", "quota_count"]


@pytest.mark.parametrize("language", ["fr", "ar"])
@pytest.mark.parametrize("changes,fields", ALL_AT_ONCE)
def test_every_problem_is_shown_at_once_by_its_label(client, auth, partner, session, language, changes, fields):
    """Several bad values: 422, a message under each of their fields, a summary naming each field by
    its translated label, and no raw key or English message anywhere among the errors."""
    auth.login(partner.manager)
    token = csrf_token_from(client.get("/partner/offers/new").get_data(as_text=True))
    response = client.post(f"/partner/offers/new?lang={language}", data={**GOOD, **changes, "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for name in fields:
        assert field_errors(html, name), name
    summary = html[html.index('class="problems"') :]
    summary = summary[: summary.index("</ul>")].replace("&#39;", "'")
    assert summary.count("<li>") >= len(fields)
    for name in fields:
        assert f'href="#{name}"' in summary
        if name in LABELS[language]:
            assert LABELS[language][name] in summary
    errors = " ".join(" ".join(field_errors(html, name)) for name in fields) + summary
    for english in ENGLISH:
        assert english not in errors.replace('href="#valid_until"', "").replace('href="#quota_count"', "")
    assert session.scalar(select(func.count()).select_from(Offer)) == 0

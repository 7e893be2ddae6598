"""Offers: the queue by state, an offer's page (texts, conditions, fields, trail) and the decisions."""

import pytest
from markupsafe import escape
from sqlalchemy import select

from tests.admin.conftest import audit_count
from tests.fixtures.factories import CNSS_REGISTERED
from webapp.models import AuditEvent, Offer, OfferState


@pytest.mark.parametrize(("language", "direction"), [("fr", "ltr"), ("ar", "rtl")])
def test_the_queue_shows_submitted_offers_by_default(admin_client, make_offer, language, direction):
    """Without a filter the queue holds the offers waiting for approval, from every partner."""
    waiting = make_offer(state=OfferState.SUBMITTED, name="En attente")
    approved = make_offer(name="Déjà approuvée")
    page = admin_client.get(f"/admin/offers?lang={language}").get_data(as_text=True)
    assert f'dir="{direction}"' in page
    assert f"/admin/offers/{waiting.id}" in page and f"/admin/offers/{approved.id}" not in page
    assert 'aria-current="page">' + {"fr": "soumise", "ar": "مقدَّم"}[language] in page


@pytest.mark.parametrize("state", list(OfferState))
def test_the_queue_filters_by_each_state(admin_client, make_offer, state):
    """?state= lists the offers in that state only."""
    chosen = make_offer(state=state)
    other = make_offer(state=OfferState.SUBMITTED if state != OfferState.SUBMITTED else OfferState.DRAFT)
    page = admin_client.get(f"/admin/offers?state={state.value}").get_data(as_text=True)
    assert f"/admin/offers/{chosen.id}" in page and f"/admin/offers/{other.id}" not in page


@pytest.mark.parametrize("state", ["bogus", "", "APPROVED"])
def test_an_unknown_state_filter_is_a_bad_request(admin_client, state):
    """A state the offers do not have answers 400, not an empty list."""
    assert admin_client.get(f"/admin/offers?state={state}").status_code == 400


@pytest.mark.parametrize(("language", "direction"), [("fr", "ltr"), ("ar", "rtl")])
def test_an_offers_page_shows_texts_conditions_fields_and_state(admin_client, make_offer, language, direction):
    """Texts in the three languages, each condition's labels and JsonLogic, fields, quota, window, state."""
    offer = make_offer(state=OfferState.SUBMITTED, conditions=[CNSS_REGISTERED], quota=(20, "month"))
    page = admin_client.get(f"/admin/offers/{offer.id}?lang={language}").get_data(as_text=True)
    assert f'dir="{direction}"' in page
    for text in (offer.name_fr, offer.name_ar, offer.name_en, offer.benefit_fr, offer.benefit_ar, offer.benefit_en):
        assert text in page
    for label in CNSS_REGISTERED["label"].values():
        assert label in page
    assert '<pre class="code">{\n  &#34;==&#34;: [\n    {\n      &#34;var&#34;: &#34;artisan.cnss_status&#34;' in page
    assert "weight_kg" in page and "destination" in page and "0.1 – 30" in page
    assert {"fr": "20 utilisations par mois", "ar": "20"}[language] in page
    assert offer.valid_from.year.__str__() in page


@pytest.mark.parametrize(
    ("state", "buttons"),
    [
        (OfferState.DRAFT, ["retire"]),
        (OfferState.SUBMITTED, ["approve", "send_back", "retire"]),
        (OfferState.APPROVED, ["pause", "retire"]),
        (OfferState.PAUSED, ["resume", "retire"]),
        (OfferState.RETIRED, []),
    ],
)
def test_the_page_offers_only_the_actions_the_state_allows(admin_client, make_offer, state, buttons):
    """Each state shows its possible decisions, each a POST form with a CSRF token; retired shows none."""
    offer = make_offer(state=state)
    page = admin_client.get(f"/admin/offers/{offer.id}").get_data(as_text=True)
    shown = [a for a in ("approve", "send_back", "pause", "resume", "retire") if f'/{offer.id}/{a}"' in page]
    assert shown == buttons
    assert page.count('name="csrf_token"') == len(buttons)
    assert page.count('name="reason" required') == len([b for b in buttons if b != "approve" and b != "resume"])


@pytest.mark.parametrize(
    ("start", "action", "reason", "end"),
    [
        (OfferState.SUBMITTED, "approve", "", OfferState.APPROVED),
        (OfferState.SUBMITTED, "send_back", "Texte arabe incomplet", OfferState.DRAFT),
        (OfferState.APPROVED, "pause", "Fraude en cours d'examen", OfferState.PAUSED),
        (OfferState.PAUSED, "resume", "", OfferState.APPROVED),
        (OfferState.APPROVED, "retire", "Fin de la convention", OfferState.RETIRED),
    ],
)
def test_each_decision_changes_the_state_and_is_audited(forms, session, make_offer, admin, start, action, reason, end):
    """A decision moves the offer, writes one audit event with the admin and the reason, and shows in the trail."""
    offer = make_offer(state=start)
    page = f"/admin/offers/{offer.id}"
    response = forms.post(page, f"{page}/{action}", {"reason": reason})
    assert response.status_code == 302 and response.headers["Location"] == page
    session.expire_all()
    assert session.get(Offer, offer.id).state == end
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == f"offer.{action}")).one()
    assert event.actor_user_id == admin.id and event.offer_id == offer.id and event.reason == (reason or None)
    trail = forms.client.get(page).get_data(as_text=True)
    trail = trail[trail.index("Historique") :]
    assert admin.display_name in trail and str(escape(reason)) in trail


@pytest.mark.parametrize(
    ("start", "action", "reason", "message"),
    [
        (
            OfferState.APPROVED,
            "approve",
            "",
            "Cette offre est à l'état « approuvée » : elle ne peut pas être « approuvée ».",
        ),
        (OfferState.DRAFT, "pause", "raison", "Cette offre est à l'état « brouillon »"),
        (OfferState.RETIRED, "resume", "", "Cette offre est à l'état « retirée »"),
        (OfferState.SUBMITTED, "send_back", "   ", "Un motif est obligatoire"),
        (OfferState.APPROVED, "pause", "", "Un motif est obligatoire"),
        (OfferState.PAUSED, "retire", "\t", "Un motif est obligatoire"),
    ],
    ids=["approve-approved", "pause-draft", "resume-retired", "send-back-blank", "pause-empty", "retire-tab"],
)
def test_a_refused_decision_shows_the_translated_refusal_and_writes_nothing(
    forms, session, make_offer, start, action, reason, message
):
    """An illegal transition or a blank reason: 422 with the refusal in French, state and trail untouched."""
    offer = make_offer(state=start)
    before, version = audit_count(session), offer.version
    # The token from a page that has a form whatever the state (a retired offer's page has none).
    response = forms.post("/admin/partners/new", f"/admin/offers/{offer.id}/{action}", {"reason": reason})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    refusal = body[body.index('class="flash flash-error"') :]
    assert message in refusal[: refusal.index("</p>")].replace("\u202f", " ").replace("&#39;", "'")
    session.expire_all()
    assert session.get(Offer, offer.id).state == start and session.get(Offer, offer.id).version == version
    assert audit_count(session) == before


def test_decisions_need_the_csrf_token(admin_client, session, make_offer):
    """A decision posted without the CSRF token is refused (400) and changes nothing."""
    offer = make_offer(state=OfferState.SUBMITTED)
    before = audit_count(session)
    response = admin_client.post(f"/admin/offers/{offer.id}/approve", data={})
    assert response.status_code == 400
    session.expire_all()
    assert session.get(Offer, offer.id).state == OfferState.SUBMITTED and audit_count(session) == before


def test_an_unknown_offer_or_action_answers_404(admin_client, make_offer):
    """No such offer, or an action that is not an administrator's decision: 404."""
    offer = make_offer(state=OfferState.DRAFT)
    assert admin_client.get("/admin/offers/999999").status_code == 404
    assert admin_client.post(f"/admin/offers/{offer.id}/submit").status_code in (400, 404)


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("fr", {"send_back": "Pourquoi le renvoyer ?", "retire": "Pourquoi le retirer ?"}),
        ("ar", {"send_back": "لماذا يُعاد؟", "retire": "لماذا يُسحب؟"}),
    ],
)
def test_each_decision_is_its_own_form_with_a_labelled_reason(admin_client, make_offer, language, labels):
    """One form per decision, titled and explained; a reason field only where one is needed, with its
    own label (the question it answers) tied to it by id."""
    offer = make_offer(state=OfferState.SUBMITTED)
    page = admin_client.get(f"/admin/offers/{offer.id}?lang={language}").get_data(as_text=True)
    forms = page.split('class="panel form decision"')[1:]
    assert len(forms) == 3  # approve, send back, retire
    approve, send_back, retire = forms
    assert 'name="reason"' not in approve
    for action, form in (("send_back", send_back), ("retire", retire)):
        assert f'<label for="reason-{action}">{labels[action]}' in form
        assert f'id="reason-{action}" name="reason" required' in form
    assert page.count('name="reason"') == 2


def test_a_blank_reason_is_shown_under_its_decisions_field(forms, make_offer):
    """The refusal sits under the reason field of the decision that needed it, marked invalid."""
    offer = make_offer(state=OfferState.SUBMITTED)
    page = f"/admin/offers/{offer.id}"
    response = forms.post(page, f"{page}/send_back", {"reason": " "})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    field = body[body.index('id="reason-send_back"') :]
    assert 'aria-invalid="true"' in field[: field.index(">")]
    errors = body[body.index('id="reason-send_back-errors"') :]
    assert "Un motif est obligatoire" in errors[: errors.index("</ul>")]
    assert 'id="reason-retire-errors"' not in body

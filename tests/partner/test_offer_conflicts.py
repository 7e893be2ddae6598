"""Two tabs on one draft offer, and a button pressed on a page that is out of date: the portal never
overwrites or submits unseen (webapp/edit_conflicts.py, services/concurrency.py)."""

from __future__ import annotations

import json

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from tests.conftest import csrf_token_from
from tests.fixtures.factories import CNSS_REGISTERED, PARCEL_FIELDS
from tests.fixtures.support import TEST_ACTOR, version_fields_from
from webapp.models import AuditEvent, Offer, OfferState
from webapp.services.partners.offer_fields import parse_field_specs
from webapp.services.partners.offers import OfferDraft, update_offer


def edit_url(offer: Offer) -> str:
    return f"/partner/offers/{offer.id}/edit"


class Tab:
    """One tab on the draft's form: its boxes hold the values shown; sent with the person's changes."""

    def __init__(self, client, offer: Offer) -> None:
        self.client, self.offer = client, offer
        self.load(client.get(edit_url(offer)).get_data(as_text=True))
        self.values = json.loads(self.hidden["shown"])

    def load(self, page: str) -> None:
        self.page, self.hidden, self.token = page, version_fields_from(page), csrf_token_from(page)

    def save(self, **changes):
        self.values |= {name: value for name, value in changes.items() if not name.startswith("keep-")}
        data = {**self.values, **changes, **self.hidden, "csrf_token": self.token}
        response = self.client.post(edit_url(self.offer), data=data)
        if response.status_code != 302:
            self.load(response.get_data(as_text=True))
        return response


def updates(session, offer: Offer) -> int:
    session.expire_all()
    statement = select(func.count()).select_from(AuditEvent).where(AuditEvent.offer_id == offer.id)
    return session.scalar(statement.where(AuditEvent.action == "offer.update"))


def test_the_second_tab_on_a_draft_meets_a_conflict_and_saves_the_choice(client, auth, partner, session, make_offer):
    """GET, GET, POST, POST: the second save comes back (409) with both names; choosing the name
    saved meanwhile keeps it, the second tab's other change is saved; one audit event per save."""
    draft = make_offer(partner.organisation, state=OfferState.DRAFT, name="Colis")
    auth.login(partner.manager)
    first, second = Tab(client, draft), Tab(client, draft)
    assert first.save(name_fr="Colis express").status_code == 302
    response = second.save(name_fr="Colis rapide", benefit_fr="-20 % sur les colis")
    assert response.status_code == 409
    assert "Colis express" in second.page and "Colis rapide" in second.page
    assert 'name="keep-name_fr" value="mine" checked' in second.page
    assert second.save(**{"keep-name_fr": "theirs"}).status_code == 302
    session.expire_all()
    saved = session.get(Offer, draft.id)
    assert (saved.name_fr, saved.benefit_fr) == ("Colis express", "-20 % sur les colis")
    assert updates(session, draft) == 2


def test_submitting_from_an_out_of_date_page_is_refused(client, auth, partner, session, make_offer):
    """A draft changed after its page was shown is not submitted for approval unseen."""
    draft = make_offer(partner.organisation, state=OfferState.DRAFT)
    auth.login(partner.manager)
    page = client.get(f"/partner/offers/{draft.id}").get_data(as_text=True)
    shown = {**version_fields_from(page), "csrf_token": csrf_token_from(page)}
    assert shown["version"] == str(draft.version)  # the button names it
    change = OfferDraft(
        name={"fr": "Autre nom", "ar": draft.name_ar, "en": draft.name_en},
        benefit={"fr": draft.benefit_fr, "ar": draft.benefit_ar, "en": draft.benefit_en},
        valid_from=draft.valid_from,
        fields=draft.fields,
    )
    update_offer(session, draft, change, TEST_ACTOR)
    session.commit()
    response = client.post(f"/partner/offers/{draft.id}/submit", data=shown, follow_redirects=True)
    assert "a modifié cette fiche" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Offer, draft.id).state == OfferState.DRAFT


NOTE_FIELD = {
    "name": "note",
    "type": "text",
    "label": {"fr": "Remarque", "ar": "ملاحظة", "en": "Note"},
    "max_length": 80,
}
FES = {"label": {"fr": "Fès", "ar": "فاس", "en": "Fez"}, "logic": {"==": [{"var": "card.region"}, "03"]}}
# The draft admits CNSS-registered holders and records a parcel. Meanwhile, the first tab opens it
# to everyone and records only the destination; the second adds Fès to the rule and a note.
THEIR_RULE, THEIR_FIELDS = [], [PARCEL_FIELDS[1]]
MY_RULE, MY_FIELDS = [CNSS_REGISTERED, FES], [*PARCEL_FIELDS, NOTE_FIELD]
CONFLICT_WORDS = {
    "fr": [
        "Immatriculé à la CNSS",
        "Région\u00a0: Fès-Meknès",
        "Tout titulaire d'une carte valide.",
        "Poids (kg) (nombre, obligatoire, au moins 0,1, au plus 30)",
        "Remarque (texte, obligatoire, au plus 80 caractères)",
        "Pays de destination (pays, obligatoire)",
    ],
    "ar": [
        "مسجل في الضمان الاجتماعي",
        "الجهة: فاس مكناس",
        "كل حامل لبطاقة صالحة.",
        "الوزن (كغ) (عدد، إلزامي، على الأقل",
        "ملاحظة (نص، إلزامي، على الأكثر",
        "بلد الوجهة (بلد، إلزامي)",
    ],
}


def conflict_section(page: str) -> str:
    return page[page.index('<section class="conflict"') : page.index("</section>")]


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_conflict_on_the_rule_and_fields_shows_words_and_saves_the_json_chosen(
    client, auth, partner, session, make_offer, language
):
    """The rule and the redemption fields met on a conflict read as sentences and labels in the
    reader's language, never as JsonLogic; each choice still saves its exact JSON."""
    draft = make_offer(partner.organisation, state=OfferState.DRAFT, conditions=[CNSS_REGISTERED])
    auth.login(partner.manager)
    client.get(f"/partner/?lang={language}")
    first, second = Tab(client, draft), Tab(client, draft)
    assert first.save(conditions=json.dumps(THEIR_RULE), fields=json.dumps(THEIR_FIELDS)).status_code == 302
    response = second.save(conditions=json.dumps(MY_RULE), fields=json.dumps(MY_FIELDS))
    assert response.status_code == 409
    shown = conflict_section(second.page)
    for words in CONFLICT_WORDS[language]:
        assert str(escape(words)) in shown
    for raw in ('{"==":', "&#34;var&#34;", '"var"', "&quot;", "weight_kg", "artisan.cnss_status"):
        assert raw not in shown
    assert second.save(**{"keep-conditions": "mine", "keep-fields": "theirs"}).status_code == 302
    session.expire_all()
    saved = session.get(Offer, draft.id)
    stored_fields = [spec.to_json() for spec in parse_field_specs(THEIR_FIELDS)]  # as saving stores them
    assert (saved.conditions, saved.fields) == (MY_RULE, stored_fields)

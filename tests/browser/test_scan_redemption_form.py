"""The verifier app's redemption form: values are checked on the phone by the offer's own field
rules (before anything is sent or queued), each mistake said on its field under its label, the form
stays open with what was typed, a too-long text is said (never cut), and a value the server refuses
as mistyped leaves no "refused" entry on the phone."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.browser.test_scan_app import assert_fits, shoot, sign_in, ui_text
from tests.fixtures.factories import PARCEL_FIELDS
from webapp.models import Redemption, Role

NOTE = {"name": "note", "type": "text", "label": {"fr": "Note", "ar": "ملاحظة", "en": "Note"}, "max_length": 10}
LABELS = {"fr": "Poids (kg)", "ar": "الوزن (كغ)"}
COUNTRY_FR = {"fr": "France", "ar": "فرنسا"}


def field(page: Any, name: str) -> Any:
    """One field of the open redemption form (its label, input and message)."""
    return page.locator("[data-redemption-fields] .field", has=page.locator(f'[name="{name}"]'))


def open_form(page: Any, live_server: str, email: str, number: str, language: str) -> Any:
    """Signed in, the card checked by its number, the person compared, "record" tapped: the form."""
    page.goto(f"{live_server}/scan/?lang={language}")
    sign_in(page, live_server, email)
    expect(page.locator("[data-place-setting]")).to_be_visible()
    expect(page.locator("#scan-app")).to_have_attribute("data-trust", "ready")  # the offers' fields are here
    page.fill("[data-number-form] input", number)
    page.locator("[data-number-form] button[type=submit]").click()
    page.locator('[data-action="same-person"]').click()
    page.locator(".offer-standing button").click()
    form = page.locator("[data-redemption-form]")
    expect(form).to_be_visible()
    return form


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_mistyped_values_keep_the_form_open_with_the_message_on_each_field(
    live_server: str, page: Any, session: Session, make_card: Any, make_user: Any, make_offer: Any, language: str
) -> None:
    """Offline, a weight over the maximum and a too-long note: nothing is queued, the form stays open
    with the values, each message under its field (its label, never its key); "France" is read as FR.
    Then online, a value the server refuses as mistyped keeps the form open and leaves no entry; the
    corrected values are recorded once, whole."""
    offer = make_offer(fields=[*PARCEL_FIELDS, NOTE])
    agent = make_user(Role.PARTNER_AGENT, organisation=offer.organisation)
    card = make_card()
    form = open_form(page, live_server, agent.email, card.number, language)

    page.context.set_offline(True)
    page.fill('[name="weight_kg"]', "45")
    page.fill('[name="destination"]', "France")
    page.fill('[name="note"]', "Porte bleue, 2e")  # 15 characters: said while typing, nothing cut
    too_long = ui_text(page, "field_too_long").replace("{length}", "15").replace("{count}", "10")
    expect(field(page, "note").locator(".field-error")).to_have_text(too_long)
    expect(page.locator('[name="note"]')).to_have_value("Porte bleue, 2e")
    form.locator('button[type="submit"]').click()

    expect(form).to_be_visible()
    weight = field(page, "weight_kg")
    expect(weight.locator("label")).to_have_text(LABELS[language])
    expect(weight.locator(".field-error")).to_have_text(ui_text(page, "field_max").replace("{max}", "30"))
    expect(page.locator('[name="weight_kg"]')).to_have_attribute("aria-invalid", "true")
    expect(page.locator('[name="weight_kg"]')).to_have_value("45")
    expect(field(page, "destination").locator(".field-error")).to_be_hidden()
    expect(form.locator("[data-redemption-error]")).to_have_text(ui_text(page, "fields_to_fix"))
    assert "weight_kg" not in form.inner_text()
    expect(page.locator(".outbox-item")).to_have_count(0)
    expect(page.locator('[data-line="pending"]')).to_be_hidden()
    assert_fits(page)
    form.scroll_into_view_if_needed()
    shoot(page, "form-errors", language)

    page.context.set_offline(False)
    page.fill('[name="weight_kg"]', "2,5")
    page.fill('[name="note"]', "Porte 12")
    expect(field(page, "note").locator(".field-error")).to_be_hidden()

    def mistyped_on_the_way(route: Any) -> None:
        """The server gets a weight it refuses (as if the offer's rules had changed since the bundle)."""
        body = json.loads(route.request.post_data)
        body["fields"]["weight_kg"] = "99"
        route.fulfill(response=route.fetch(post_data=json.dumps(body)))

    page.route(f"{live_server}/api/v1/redemptions", mistyped_on_the_way)
    form.locator('button[type="submit"]').click()
    expect(weight.locator(".field-error")).to_contain_text("30")
    expect(form).to_be_visible()
    expect(page.locator('[name="note"]')).to_have_value("Porte 12")
    expect(page.locator("[data-redemption-result]")).to_be_hidden()
    expect(page.locator(".outbox-item")).to_have_count(0)
    assert session.scalars(select(Redemption)).all() == []
    page.unroute(f"{live_server}/api/v1/redemptions")

    form.locator('button[type="submit"]').click()
    expect(page.locator("[data-redemption-result]")).to_have_attribute("data-status", "accepted")
    expect(form).to_be_hidden()
    expect(page.locator(".outbox-item")).to_have_count(1)
    expect(page.locator('.outbox-item[data-status="accepted"]')).to_have_count(1)
    session.expire_all()
    stored = session.scalars(select(Redemption)).one()
    assert stored.fields == {"weight_kg": 2.5, "destination": "FR", "note": "Porte 12"}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_queued_redemption_refused_as_mistyped_is_to_correct_and_reopens_with_its_values(
    live_server: str, page: Any, session: Session, make_card: Any, make_user: Any, make_offer: Any, language: str
) -> None:
    """Queued offline, then refused by the server as mistyped when the network returns (the offer's
    maximum changed meanwhile): the entry says "to correct" with the field's label (never its key),
    never "refused"; "Correct" reopens the form with the values and the reason on the field, and the
    corrected values are recorded once, whole."""
    offer = make_offer()
    agent = make_user(Role.PARTNER_AGENT, organisation=offer.organisation)
    card = make_card()
    form = open_form(page, live_server, agent.email, card.number, language)
    page.context.set_offline(True)
    page.fill('[name="weight_kg"]', "2,5")
    page.fill('[name="destination"]', "fr")
    form.locator('button[type="submit"]').click()
    expect(page.locator('.outbox-item[data-status="pending"]')).to_have_count(1)

    offer.fields = [{**PARCEL_FIELDS[0], "max": 2}, PARCEL_FIELDS[1]]  # changed since the phone's bundle
    session.commit()
    page.context.set_offline(False)

    entry = page.locator('.outbox-item[data-status="to_correct"]')
    expect(entry).to_have_count(1, timeout=20_000)
    expect(entry).to_contain_text(ui_text(page, "status_to_correct"))
    expect(entry).to_contain_text(LABELS[language])
    assert "weight_kg" not in entry.inner_text()
    expect(page.locator('.outbox-item[data-status="refused"]')).to_have_count(0)
    expect(page.locator('[data-line="pending"]')).to_be_hidden()
    assert session.scalars(select(Redemption)).all() == []

    entry.locator('[data-action="correct"]').click()
    weight = entry.locator(".field", has=page.locator('[name="weight_kg"]'))
    expect(weight.locator("label")).to_have_text(LABELS[language])
    expect(weight.locator(".field-error")).to_contain_text("2")
    expect(weight.locator("input")).to_have_value("2,5")  # as typed in fr and ar (Latin digits, as in Morocco)
    expect(entry.locator('[name="destination"]')).to_have_value(COUNTRY_FR[language])
    assert_fits(page)
    entry.scroll_into_view_if_needed()
    shoot(page, "to-correct", language)

    weight.locator("input").fill("1,5")
    entry.locator('button[type="submit"]').click()
    expect(page.locator('.outbox-item[data-status="accepted"]')).to_have_count(1)
    expect(page.locator('.outbox-item[data-status="to_correct"]')).to_have_count(0)
    session.expire_all()
    stored = session.scalars(select(Redemption)).one()
    assert (stored.fields, stored.card_id) == ({"weight_kg": 1.5, "destination": "FR"}, card.id)

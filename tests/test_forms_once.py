"""One-time tokens on create forms: the same form sent twice (back button and resubmit, a second
click) creates one record, and the second sending leads to what the first created."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.admin.test_partners import NEW as NEW_PARTNER
from tests.admin.test_staff import NEW_OFFICER
from tests.backoffice.conftest import OFFICER_REGION
from tests.backoffice.test_register import GOOD_FORM as NEW_ARTISAN
from tests.fixtures.auth import AuthActions
from tests.fixtures.support import csrf_token_from
from tests.partner.test_offers import GOOD as NEW_OFFER
from webapp.models import ApiKey, Artisan, CardRequest, FormSubmission, Offer, OfferWithdrawal, Organisation, Role, User

ONCE = re.compile(r'name="once"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="once"')


def once_token_from(html: str) -> str:
    match = ONCE.search(html)
    assert match, "no one-time token on the page"
    return match[1] or match[2]


@dataclass(frozen=True)
class CreateForm:
    page: str  # where the form is (GET) and where it is sent (POST), unless `action`
    model: Any  # what one sending creates one of
    role: Role
    data: dict[str, Any]
    action: str | None = None


CREATE_FORMS = {
    "partner offer": CreateForm("/partner/offers/new", Offer, Role.PARTNER_MANAGER, NEW_OFFER),
    "partner staff": CreateForm(
        "/partner/staff/new",
        User,
        Role.PARTNER_MANAGER,
        {"email": "nouvel.agent@example.ma", "display_name": "Nouvel Agent", "role": "partner_agent"},
    ),
    "partner api key": CreateForm(
        "/partner/api-keys/new", ApiKey, Role.PARTNER_MANAGER, {"label": "Caisse 2", "scopes": ["verify"]}
    ),
    "admin partner": CreateForm("/admin/partners/new", Organisation, Role.ADMIN, NEW_PARTNER),
    "admin staff": CreateForm("/admin/staff/new", User, Role.ADMIN, NEW_OFFICER),
    "admin withdrawal": CreateForm(
        "/admin/withdrawals", OfferWithdrawal, Role.ADMIN, {"reason": "Fraude"}, action="/admin/withdrawals"
    ),
    # Born another day than the factories' artisans: no likely duplicate to confirm first.
    "back office artisan": CreateForm(
        "/office/artisans/new", Artisan, Role.OFFICER, NEW_ARTISAN | {"birth_date": "1961-02-03", "phone": ""}
    ),
    "card request": CreateForm("/card/requests/new/correction", CardRequest, Role.ARTISAN, {"detail": "Mon prénom"}),
}


@pytest.fixture
def sender(app, make_user, make_organisation, make_offer, make_card):
    """Signs a client in as the form's role and fills what the form needs from the database."""

    def sign_in(form: CreateForm) -> tuple[Any, dict[str, Any]]:
        organisation = make_organisation()
        card = make_card()
        extra: dict[str, Any] = {}
        options: dict[str, Any] = {}
        if form.role in (Role.PARTNER_MANAGER,):
            options["organisation"] = organisation
        if form.role == Role.OFFICER:
            options["region"] = OFFICER_REGION
        if form.role == Role.ARTISAN:
            options["artisan"] = card.artisan
        if form.model is OfferWithdrawal:
            extra = {"card": card.number, "offer": str(make_offer(organisation).id)}
        client = app.test_client()
        assert AuthActions(client).login(make_user(form.role, **options)).status_code == 302
        return client, extra

    return sign_in


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("name", list(CREATE_FORMS))
def test_the_same_form_sent_twice_creates_one_record(session, sender, name):
    """The second sending of one rendered form creates nothing and leads to what the first created."""
    form = CREATE_FORMS[name]
    client, extra = sender(form)
    html = client.get(form.page).get_data(as_text=True)
    data = {**form.data, **extra, "csrf_token": csrf_token_from(html), "once": once_token_from(html)}
    before = count(session, form.model)
    first = client.post(form.action or form.page, data=data)
    assert first.status_code in (200, 302), first.get_data(as_text=True)[:2000]
    assert count(session, form.model) == before + 1
    second = client.post(form.action or form.page, data=data)
    assert second.status_code == 302 and count(session, form.model) == before + 1
    if first.status_code == 302:  # the record's own page: the replay leads there too
        assert second.headers["Location"] == first.headers["Location"]


@pytest.mark.parametrize("name", ["partner offer", "admin staff"])
def test_each_render_issues_a_new_token(sender, name):
    """Two renders of a create form carry two different tokens (a new record each time)."""
    form = CREATE_FORMS[name]
    client, _extra = sender(form)
    assert once_token_from(client.get(form.page).get_data(as_text=True)) != once_token_from(
        client.get(form.page).get_data(as_text=True)
    )


def test_a_refused_form_keeps_its_token_usable(session, sender):
    """A form sent back with errors claimed nothing: corrected, the same token creates the record."""
    form = CREATE_FORMS["partner offer"]
    client, _extra = sender(form)
    html = client.get(form.page).get_data(as_text=True)
    data = {**form.data, "csrf_token": csrf_token_from(html), "once": once_token_from(html)}
    assert client.post(form.page, data=data | {"name_fr": ""}).status_code == 422
    assert count(session, FormSubmission) == 0
    assert client.post(form.page, data=data).status_code == 302 and count(session, Offer) == 1


def test_another_persons_token_creates_nothing_and_shows_nothing(app, session, sender, make_user):
    """A token claimed by someone else is not theirs to replay: no record, no link to the other's."""
    form = CREATE_FORMS["admin staff"]
    client, _extra = sender(form)
    html = client.get(form.page).get_data(as_text=True)
    data = {**form.data, "csrf_token": csrf_token_from(html), "once": once_token_from(html)}
    assert client.post(form.page, data=data).status_code == 200
    other = app.test_client()
    AuthActions(other).login(make_user(Role.ADMIN))
    token = csrf_token_from(other.get(form.page).get_data(as_text=True))
    before = count(session, User)
    response = other.post(form.page, data=data | {"csrf_token": token, "email": "autre@example.ma"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/staff"
    assert count(session, User) == before


def test_the_submit_button_script_is_a_module_file():
    """The double-click guard is a file served under the strict CSP (no inline script)."""
    from webapp.settings import PROJECT_ROOT

    script = (PROJECT_ROOT / "static" / "js" / "forms" / "once.js").read_text()
    assert 'input[name="once"]' in script and "disabled = true" in script

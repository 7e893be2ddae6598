"""Partners: the list, a new partner with its first manager in one submit, and a partner's page."""

import pytest
from sqlalchemy import select

from tests.admin.conftest import audit_count
from tests.fixtures.support import TEST_PASSWORD
from webapp.models import Organisation, Role, User
from webapp.models.partner import LENDER

NEW = {
    "slug": "credit-atlas",
    "name": "Crédit Atlas",
    "kind": LENDER,
    "manager_email": "Salma@Credit-Atlas.test",
    "manager_name": "Salma Idrissi",
}


@pytest.mark.parametrize(
    ("language", "direction", "kind_name"), [("fr", "ltr", "Organisme de financement"), ("ar", "rtl", "مؤسسة تمويل")]
)
def test_the_list_shows_each_partner_with_its_kind_and_counts(
    admin_client, make_organisation, make_user, make_offer, language, direction, kind_name
):
    """Slug, name, kind in the reader's language, staff and offers counted per partner."""
    lender = make_organisation("Banque Test", kind=LENDER)
    make_user(Role.PARTNER_MANAGER, organisation=lender)
    make_user(Role.PARTNER_AGENT, organisation=lender)
    make_offer(lender)
    page = admin_client.get(f"/admin/partners?lang={language}").get_data(as_text=True)
    assert f'dir="{direction}"' in page
    row = page[page.index("Banque Test") :]
    row = row[: row.index("</tr>")]
    assert lender.slug in row and kind_name in row
    assert '<td data-label="' in row and ">2</td>" in row and ">1</td>" in row


@pytest.mark.parametrize(("language", "direction"), [("fr", "ltr"), ("ar", "rtl")])
def test_the_form_lists_the_kinds_in_the_readers_language(admin_client, language, direction):
    """The kind select is the partner_kind table, named in the reader's language."""
    page = admin_client.get(f"/admin/partners/new?lang={language}").get_data(as_text=True)
    assert f'dir="{direction}"' in page
    assert f'<option value="{LENDER}">' + {"fr": "Organisme de financement", "ar": "مؤسسة تمويل"}[language] in page


def test_a_new_partner_and_its_manager_are_created_in_one_submit(client, forms, session, auth):
    """One submit creates the organisation and its manager; the temporary password is shown once, signs
    the manager in, and must be replaced before the portal opens."""
    response = forms.post("/admin/partners/new", "/admin/partners/new", NEW)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    organisation = session.scalar(select(Organisation).where(Organisation.slug == "credit-atlas"))
    manager = session.scalar(select(User).where(User.email == "salma@credit-atlas.test"))
    assert organisation is not None and organisation.kind_code == LENDER
    assert manager.role == Role.PARTNER_MANAGER and manager.organisation_id == organisation.id
    password = page.split('<p class="secret">')[1].split("</p>")[0].strip()
    assert manager.check_password(password) and not manager.check_password(TEST_PASSWORD)
    assert audit_count(session, "organisation.create") == 1 and audit_count(session, "staff.create") == 1
    # Shown once: the partner's page never shows it again.
    assert password not in client.get("/admin/partners/credit-atlas").get_data(as_text=True)
    auth.logout()
    # The temporary password signs in, then leads to choosing one's own before anything else.
    assert auth.login("salma@credit-atlas.test", password).headers["Location"].startswith("/account/password")
    assert client.get("/partner/").headers["Location"].startswith("/account/password")
    assert auth.change_password(password, "Atlas: quatre mots de passe").status_code == 302
    assert client.get("/partner/").status_code == 200


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"slug": "Crédit Atlas"}, "slug", "lower-case letters"),
        ({"slug": "-atlas"}, "slug", "lower-case letters"),
        ({"slug": "a"}, "slug", "lower-case letters"),
        ({"slug": "atlas-"}, "slug", "lower-case letters"),
        ({"slug": "a" * 41}, "slug", "Field cannot be longer than 40 characters"),
        ({"slug": ""}, "slug", "This field is required"),
        ({"name": "X"}, "name", "2 to 120 characters"),
        ({"kind": "bank"}, "kind", "unknown partner kind"),
        ({"manager_email": "salma"}, "manager_email", "not an email address"),
        ({"manager_name": "S"}, "manager_name", "2 to 120 characters"),
    ],
    ids=[
        "spaces-accents",
        "leading-hyphen",
        "one-letter",
        "trailing-hyphen",
        "too-long",
        "blank",
        "short-name",
        "unknown-kind",
        "bad-email",
        "short-manager-name",
    ],
)
def test_bad_inputs_are_refused_on_their_field_and_nothing_is_written(forms, session, changes, field, message):
    """Each bad input re-shows the form (422) with the refusal under its field; no organisation, no account."""
    response = forms.post("/admin/partners/new", "/admin/partners/new", NEW | changes, language="en")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = page[page.index(f'id="{field}-errors"') :]
    assert message in errors[: errors.index("</ul>")]
    assert session.scalars(select(Organisation)).all() == []
    assert session.scalar(select(User).where(User.email == "salma@credit-atlas.test")) is None
    assert audit_count(session) == 0


@pytest.mark.parametrize(
    ("taken", "field"),
    [
        ({"slug": "taken-slug"}, None),
        ({"name": "Taken Name"}, None),
        ({"manager_email": "taken@test.ma"}, "manager_email"),
    ],
    ids=["slug", "name", "email"],
)
def test_a_taken_slug_name_or_email_is_refused_and_nothing_is_written(
    forms, session, make_organisation, make_user, taken, field
):
    """A slug, name or manager email already in use: translated refusal, neither organisation nor account written."""
    existing = make_organisation("Taken Name")
    existing.slug = "taken-slug"
    session.commit()
    make_user(Role.PARTNER_AGENT, organisation=existing, email="taken@test.ma")
    before = audit_count(session)
    response = forms.post("/admin/partners/new", "/admin/partners/new", NEW | taken, language="ar")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    expected = "يوجد حساب بهذا البريد الإلكتروني" if field else "توجد مؤسسة"
    assert expected in page
    assert session.scalars(select(Organisation)).all() == [existing]
    assert session.scalar(select(User).where(User.email == "salma@credit-atlas.test")) is None
    assert audit_count(session) == before


@pytest.mark.parametrize(("language", "direction"), [("fr", "ltr"), ("ar", "rtl")])
def test_a_partners_page_shows_staff_offers_and_key_prefixes_never_secrets(
    admin_client, make_organisation, make_user, make_offer, make_api_key, language, direction
):
    """Staff, offers with their states, API keys by prefix and state; the key's secret is nowhere."""
    organisation = make_organisation("Barid Test")
    manager = make_user(Role.PARTNER_MANAGER, organisation=organisation, display_name="Karim Manager")
    offer = make_offer(organisation, name="Colis national")
    new_key = make_api_key(organisation)
    other = make_offer(make_organisation(), name="Offre d'un autre")
    page = admin_client.get(f"/admin/partners/{organisation.slug}?lang={language}").get_data(as_text=True)
    assert f'dir="{direction}"' in page
    assert manager.display_name in page and manager.email in page
    assert f"/admin/offers/{offer.id}" in page and f"/admin/offers/{other.id}" not in page
    assert new_key.api_key.prefix in page
    assert new_key.plaintext not in page and new_key.plaintext.split("_", 2)[2] not in page  # ca_<prefix>_<secret>
    assert {"fr": "approuvée", "ar": "مصادق عليه"}[language] in page


def test_an_unknown_partner_answers_404(admin_client):
    """A slug that names no organisation is a 404 page."""
    assert admin_client.get("/admin/partners/nobody").status_code == 404

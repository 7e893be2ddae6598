"""Two tabs editing one artisan (webapp/edit_conflicts.py): the second save never overwrites the
first unseen; it comes back (409) with, field by field, the value typed and the value saved
meanwhile (by whom), and saves what the person chooses against the new version. One audit event
per save, nothing half-written."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from tests.fixtures.support import version_fields_from
from webapp.models import Artisan, AuditEvent


def html_of(response) -> str:
    return response.get_data(as_text=True).replace("\u2068", "").replace("\u2069", "")


def edit_url(artisan: Artisan) -> str:
    return f"/office/artisans/{artisan.id}/edit"


class Tab:
    """One browser tab on the edit form: the values its boxes hold and the hidden fields it shows,
    sent back with the person's changes."""

    def __init__(self, staff, artisan: Artisan, language: str = "fr") -> None:
        self.staff, self.artisan, self.language = staff, artisan, language
        self.page = html_of(staff.get(edit_url(artisan), language))
        self.hidden = version_fields_from(self.page)
        self.values = json.loads(self.hidden["shown"])  # the boxes hold the values shown

    def save(self, **changes):
        self.values = {**self.values, **{k: v for k, v in changes.items() if not k.startswith("keep-")}}
        data = {**self.values, **changes, **self.hidden}
        response = self.staff.post(edit_url(self.artisan), data, language=self.language)
        if response.status_code != 302:
            # The form comes back with the person's values in its boxes and new hidden fields.
            self.page = html_of(response)
            self.hidden = version_fields_from(self.page)
        return response


def stored(session, artisan: Artisan) -> Artisan:
    session.expire_all()
    return session.get(Artisan, artisan.id)


def updates(session, artisan: Artisan) -> int:
    session.expire_all()
    statement = select(func.count()).select_from(AuditEvent)
    return session.scalar(statement.where(AuditEvent.action == "artisan.update", AuditEvent.artisan_id == artisan.id))


def chosen(page: str, field: str) -> str:
    """The value of the radio checked for a field of the conflict page."""
    match = re.search(rf'name="keep-{field}" value="(mine|theirs)" checked', page)
    assert match, f"no choice for {field}"
    return match.group(1)


@pytest.fixture
def fes(session, make_artisan):
    artisan = make_artisan(region_code="03", province="Fès", phone="+212612345678", activity_start_year=2001)
    session.commit()
    return artisan


def test_the_edit_form_carries_the_version_it_shows(as_officer, fes):
    """The form shows the record's version and values in hidden fields."""
    tab = Tab(as_officer, fes)
    assert tab.hidden["version"] == "1" and tab.values["province"] == "Fès"


def test_the_second_tab_meets_a_conflict_showing_both_values(session, as_officer, as_admin, fes):
    """GET, GET, POST, POST: the second save is refused (409) with the value typed and the value
    saved meanwhile by whom; the first change stays, audited once."""
    first, second = Tab(as_officer, fes), Tab(as_admin, fes)
    assert first.save(province="Meknès").status_code == 302
    response = second.save(province="Sefrou")
    assert response.status_code == 409
    page = html_of(response)
    assert "Quelqu’un a enregistré une modification de cette fiche" in page
    assert "Sefrou" in page and "Meknès" in page and "Samira Officer" in page
    assert chosen(page, "province") == "mine"
    assert 'name="keep-phone"' not in page  # a field nobody changed is not to choose
    assert (stored(session, fes).province, stored(session, fes).version, updates(session, fes)) == ("Meknès", 2, 1)


def test_choosing_per_field_then_saving_keeps_what_was_chosen(session, as_officer, as_admin, fes):
    """After the conflict, each field saves the value chosen; a field only the other changed starts
    at their value; the person's own other change is kept; one more audit event."""
    first, second = Tab(as_officer, fes), Tab(as_admin, fes)
    assert first.save(province="Meknès", activity_start_year="1999").status_code == 302
    assert second.save(province="Taza", phone="+212699999999").status_code == 409
    assert chosen(second.page, "province") == "mine" and chosen(second.page, "activity_start_year") == "theirs"
    assert second.hidden["version"] == "2"
    response = second.save(
        province="Taza", phone="+212699999999", **{"keep-province": "theirs", "keep-activity_start_year": "theirs"}
    )
    assert response.status_code == 302
    saved = stored(session, fes)
    assert (saved.province, saved.activity_start_year, saved.phone, saved.version) == (
        "Meknès",
        1999,
        "+212699999999",
        3,
    )
    assert updates(session, fes) == 2


def test_keeping_mine_after_a_conflict_saves_mine(session, as_officer, as_admin, fes):
    """Choosing one's own value saves it over the value saved meanwhile, knowingly."""
    first, second = Tab(as_officer, fes), Tab(as_admin, fes)
    first.save(province="Meknès")
    second.save(province="Taza")
    assert second.save(province="Taza", **{"keep-province": "mine"}).status_code == 302
    assert stored(session, fes).province == "Taza" and updates(session, fes) == 2


def test_a_save_meanwhile_that_left_this_forms_values_alone_does_not_stop_the_next(session, as_officer, fes):
    """A save that changed nothing moves the version on; the other tab's save then goes through
    (nothing to choose), against the new version."""
    first, second = Tab(as_officer, fes), Tab(as_officer, fes)
    assert first.save().status_code == 302
    assert second.save(province="Meknès").status_code == 302
    assert (stored(session, fes).province, stored(session, fes).version, updates(session, fes)) == ("Meknès", 3, 1)


@pytest.mark.parametrize("version", ["", "abc", "0", "7"])
def test_a_save_without_the_version_shown_is_not_written_unchecked(session, as_officer, fes, version):
    """A missing, garbled or unknown version is a conflict: nothing is written."""
    tab = Tab(as_officer, fes)
    tab.hidden["version"] = version
    assert tab.save(province="Meknès").status_code == 409
    assert (stored(session, fes).province, updates(session, fes)) == ("Fès", 0)


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_the_conflict_page_speaks_the_readers_language(as_officer, as_admin, fes, language):
    """The conflict's sentence and choices are translated (Arabic page right to left)."""
    first, second = Tab(as_officer, fes), Tab(as_admin, fes, language)
    first.save(province="Meknès")
    response = second.save(province="Taza")
    assert response.status_code == 409
    words = {"fr": "Garder la mienne", "ar": "الاحتفاظ بقيمتي", "en": "Keep mine"}[language]
    assert words in html_of(response)

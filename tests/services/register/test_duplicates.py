"""Likely duplicates: the same phone, or the same birth date and a similar name in either script,
shown before an artisan is saved and confirmed."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import TEST_ACTOR
from tests.services.register.test_artisans import record_of
from webapp.models import AuditEvent
from webapp.services.register.artisans import create_artisan
from webapp.services.register.duplicates import LikelyDuplicate, likely_duplicates, similar_names
from webapp.services.scope import Scope

FES = Scope(region_code="03")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("Mohamed", "El Alaoui"), ("Mohammed", "Alaoui")),
        (("Khadija", "Bennani"), ("Khadidja", "Benani")),
        (("Youssef", "Benjelloun"), ("Youssouf", "Ben Jelloun")),
        (("محمد", "العلوي"), ("مُحَمَّد", "علوي")),
        (("فاطمة", "بناني"), ("فاطمه", "البناني")),
    ],
)
def test_the_same_name_in_another_spelling_is_similar(first, second):
    """Transliterations, articles, tashkeel and ta marbuta do not hide the same name."""
    assert similar_names(first, second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("Mohamed", "Alaoui"), ("Karim", "Alaoui")),
        (("Khadija", "Bennani"), ("Khadija", "Tazi")),
        (("خديجة", "بناني"), ("أمينة", "بناني")),
    ],
)
def test_another_first_or_last_name_is_not_similar(first, second):
    """A different first name or last name is another person's."""
    assert not similar_names(first, second)


@pytest.mark.parametrize(
    ("existing", "found"),
    [
        ({}, True),  # same names and birth date
        ({"first_name_latin": "Khadidja", "first_name_ar": "أمينة"}, True),  # similar Latin name
        ({"first_name_latin": "Amina", "first_name_ar": "خديجة"}, True),  # same Arabic name
        ({"first_name_latin": "Amina", "first_name_ar": "أمينة"}, False),  # another first name
        ({"birth_date": date(1981, 5, 17)}, False),  # another birth date
        ({"birth_date": date(1990, 1, 1), "first_name_latin": "Amina", "phone": "+212612345678"}, True),  # phone
        ({"region_code": "07", "province": "Marrakech"}, False),  # outside the officer's scope
    ],
)
def test_likely_duplicates_are_the_same_phone_or_birth_date_and_name(session, make_artisan, existing, found):
    """What the register shows before saving a new record of Khadija Bennani born 1980-05-17."""
    other = make_artisan(cin="ZZ000001", **existing)
    session.commit()
    candidates = likely_duplicates(session, record_of(session, rna_number=""), FES)
    assert [candidate.artisan.id for candidate in candidates] == ([other.id] if found else [])


def test_saving_needs_the_confirmation_of_every_candidate_and_audits_them(session, make_artisan):
    """Unconfirmed, or confirmed without one of the records shown, the save is refused; confirmed,
    the creation event names the records shown."""
    first = make_artisan(cin="ZZ000001")
    second = make_artisan(
        cin="ZZ000002", first_name_latin="Youssef", birth_date=date(1990, 1, 1), phone="+212612345678"
    )
    session.commit()
    record = record_of(session, rna_number="")
    for confirmed in (None, [], [first.id]):
        with pytest.raises(LikelyDuplicate) as refusal:
            create_artisan(session, record, FES, TEST_ACTOR, confirmed_duplicates=confirmed)
        assert sorted(refusal.value.ids) == sorted([first.id, second.id])
    artisan = create_artisan(session, record, FES, TEST_ACTOR, confirmed_duplicates=[first.id, second.id])
    session.commit()
    event = session.query(AuditEvent).filter_by(action="artisan.create", artisan_id=artisan.id).one()
    assert event.after["likely_duplicates_shown"] == sorted([first.id, second.id])

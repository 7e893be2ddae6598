"""The register's field rules: one record read from raw text, every problem named per field."""

from datetime import date, datetime

import pytest

from webapp.models.artisan import CnssStatus, Gender, LegalStatus
from webapp.services.register.artisan_fields import (
    FIELDS,
    InvalidArtisan,
    ReferenceCodes,
    clean_artisan_record,
    normalize_phone,
    reference_codes,
)

TODAY = date(2026, 12, 2)
REFERENCE = ReferenceCodes(
    regions=frozenset(f"{n:02d}" for n in range(1, 13)),
    trades=frozenset({"ZEL", "TAP", "POT"}),
    programmes=frozenset({"WOMEN", "EXPORT"}),
)
GOOD = {
    "rna_number": "RNA-03-0001234",
    "cin": "AB123456",
    "first_name_latin": "Khadija",
    "last_name_latin": "Bennani",
    "first_name_ar": "خديجة",
    "last_name_ar": "بناني",
    "birth_date": "1980-05-17",
    "gender": "female",
    "phone": "0612345678",
    "region_code": "03",
    "province": "Fès",
    "trade_code": "ZEL",
    "legal_status": "independent",
    "cnss_status": "registered",
    "cooperative_name": "",
    "activity_start_year": "2001",
    "programmes": "WOMEN",
}


def problems_of(**changes: object) -> dict[str, str]:
    with pytest.raises(InvalidArtisan) as refused:
        clean_artisan_record(GOOD | changes, REFERENCE, TODAY)
    return {field: problem.message for field, problem in refused.value.problems.items()}


def test_a_good_record_is_stored_in_canonical_form():
    """A well-formed record comes back typed: dates, enums, the phone as +212, programmes as a tuple."""
    record = clean_artisan_record(GOOD, REFERENCE, TODAY)
    assert record.birth_date == date(1980, 5, 17)
    assert record.gender is Gender.FEMALE
    assert record.legal_status is LegalStatus.INDEPENDENT
    assert record.cnss_status is CnssStatus.REGISTERED
    assert record.phone == "+212612345678"
    assert record.programmes == ("WOMEN",)
    assert record.cooperative_name is None
    assert set(record.columns()) == set(FIELDS) - {"programmes"}


@pytest.mark.parametrize(
    ("field", "written", "stored"),
    [
        ("cin", " ab 123456 ", "AB123456"),
        ("province", "Fès\x00\n", "Fès"),
        ("cooperative_name", "Coopérative\x0bAtlas", "Coopérative Atlas"),
        ("rna_number", "rna-03-0001234", "RNA-03-0001234"),
        ("phone", "06 12 34 56 78", "+212612345678"),
        ("phone", "+212 7 12 34 56 78", "+212712345678"),
        ("phone", "00212-5-22-12-34-56", "+212522123456"),
        ("birth_date", "17/05/1980", date(1980, 5, 17)),
        ("birth_date", datetime(1980, 5, 17, 0, 0), date(1980, 5, 17)),
        ("birth_date", date(1980, 5, 17), date(1980, 5, 17)),
        ("birth_date", "17-05-1980", date(1980, 5, 17)),
        ("birth_date", "17.5.1980", date(1980, 5, 17)),
        ("birth_date", "1980-5-7", date(1980, 5, 7)),
        ("phone", 612345678, "+212612345678"),
        ("phone", 522123456.0, "+212522123456"),
        ("gender", "F", Gender.FEMALE),
        ("gender", "Homme", Gender.MALE),
        ("gender", "أنثى", Gender.FEMALE),
        ("region_code", "3", "03"),
        ("region_code", 3.0, "03"),
        ("trade_code", "zel", "ZEL"),
        ("legal_status", "Maître artisan", LegalStatus.MASTER_ARTISAN),
        ("cnss_status", "pré-immatriculé", CnssStatus.PRE_REGISTERED),
        ("activity_start_year", 2001.0, 2001),
        ("programmes", "women; export, WOMEN", ("WOMEN", "EXPORT")),
        ("first_name_latin", "  Aït   Lahcen ", "Aït Lahcen"),
        ("first_name_ar", "مُحَمَّد", "مُحَمَّد"),
        ("phone", "", None),
    ],
)
def test_values_are_read_leniently(field, written, stored):
    """What people type in a form or a spreadsheet is read into one stored form."""
    record = clean_artisan_record(GOOD | {field: written}, REFERENCE, TODAY)
    assert getattr(record, field) == stored


@pytest.mark.parametrize(
    ("field", "written"),
    [
        ("rna_number", "R1"),
        ("rna_number", "RNA 03 0001234 ###"),
        ("cin", "123456"),
        ("cin", "ABC123"),
        ("cin", "AB1234567"),
        ("first_name_latin", "خديجة"),
        ("first_name_latin", "Khadija2"),
        ("first_name_latin", "K" * 61),
        ("last_name_ar", "Bennani"),
        ("last_name_ar", "بناني 3"),
        ("birth_date", "1980-02-30"),
        ("birth_date", "yesterday"),
        ("birth_date", "2020-01-01"),  # six years old
        ("birth_date", "1900-01-01"),
        ("birth_date", "17/05-1980"),
        ("birth_date", "80-05-17"),
        ("phone", "612345678"),
        ("phone", 812345678),
        ("gender", "x"),
        ("phone", "0812345678"),
        ("phone", "061234567"),
        ("phone", "+33612345678"),
        ("region_code", "13"),
        ("trade_code", "NOPE"),
        ("legal_status", "freelance"),
        ("cnss_status", "yes"),
        ("activity_start_year", "2030"),
        ("activity_start_year", "two thousand"),
        ("activity_start_year", "١٩٩٠"),
        ("programmes", "WOMEN;GOLF"),
        ("province", "P" * 61),
        ("cooperative_name", "C" * 121),
    ],
)
def test_a_wrong_value_is_named_on_its_field(field, written):
    """Each wrong value is refused with a problem on its own field, and only there."""
    assert list(problems_of(**{field: written})) == [field]


@pytest.mark.parametrize("field", ["cin", "first_name_ar", "birth_date", "region_code", "trade_code", "province"])
def test_a_required_field_left_empty_is_required(field):
    """Empty or blank required fields say 'Required.'."""
    assert problems_of(**{field: "  "}) == {field: "Required."}


def test_a_record_without_rna_number_is_a_new_artisan_to_number():
    """The RNA number is given by the system: a record may come without one (None)."""
    assert clean_artisan_record(GOOD | {"rna_number": ""}, REFERENCE, TODAY).rna_number is None


@pytest.mark.parametrize(
    "written",
    ["RNA-XX-0001234", "RNA-3-0001234", "RNA-03-001234", "RNA-03-00012345", "RNA03-0001234", "ABC-03-0001234"],
)
def test_an_rna_number_not_in_the_registers_format_is_refused(written):
    """An RNA number is RNA-, two digits of a region, a dash and seven digits."""
    assert list(problems_of(rna_number=written)) == ["rna_number"]


@pytest.mark.parametrize(("written", "region"), [("RNA-07-0001234", "03"), ("RNA-03-0001234", "07")])
def test_an_rna_number_of_another_region_is_refused(written, region):
    """The number's region part must be the artisan's region."""
    province = {"03": "Fès", "07": "Marrakech"}[region]
    problems = problems_of(rna_number=written, region_code=region, province=province)
    assert list(problems) == ["rna_number"] and "region" in problems["rna_number"]


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("Fès", "Fès"),
        ("fes", "Fès"),
        ("FES", "Fès"),
        ("فاس", "Fès"),
        ("moulay-yacoub", "Moulay Yacoub"),
        ("إفران", "Ifrane"),
    ],
)
def test_a_province_of_the_region_is_stored_by_its_french_name(written, stored):
    """A province typed in French or Arabic, any accents or hyphens, is stored as the list names it."""
    assert clean_artisan_record(GOOD | {"province": written}, REFERENCE, TODAY).province == stored


@pytest.mark.parametrize(("written", "other_region"), [("Marrakech", True), ("Casablanca", True), ("Atlantis", False)])
def test_a_province_outside_the_region_is_refused(written, other_region):
    """A province of another region, or no province at all, is refused on the province field."""
    problems = problems_of(province=written)
    assert list(problems) == ["province"]
    assert ("is in region" in problems["province"]) is other_region


def test_an_old_free_text_province_is_kept_while_unchanged():
    """A province typed before the list existed stays while neither it nor the region changes."""
    kept = clean_artisan_record(GOOD | {"province": "Fes medina"}, REFERENCE, TODAY, kept_place=("03", "Fes medina"))
    assert kept.province == "Fes medina"
    assert list(problems_of(province="Fes medina")) == ["province"]


def test_every_problem_is_reported_at_once():
    """A record with several wrong fields names them all, not only the first."""
    problems = problems_of(cin="??", phone="12", trade_code="")
    assert set(problems) == {"cin", "phone", "trade_code"}


def test_the_latin_name_must_fit_the_card():
    """First and last Latin names together fit the 40 characters a card carries."""
    problems = problems_of(first_name_latin="Abderrahmane Mohammed", last_name_latin="El Ouazzani Chahdiya")
    assert list(problems) == ["last_name_latin"]


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("Abdelouahed", "Benabderrahmane Ait Oumoussa"),  # 40 ASCII letters: 40 bytes
        ("Àbdélóúàhéd", "Bénàbdérràhmàné Àít Óúmoussa"),  # 40 letters, 16 accented: 56 bytes
        ("É" * 13, "É" * 14),  # 28 letters: 55 bytes
    ],
    ids=["ascii-40", "56-bytes", "55-bytes-accented"],
)
def test_a_latin_name_within_56_bytes_is_accepted(first, last):
    """Rule Q1: up to 40 characters and 56 UTF-8 bytes, so the card's QR code stays at version 12."""
    record = clean_artisan_record(GOOD | {"first_name_latin": first, "last_name_latin": last}, REFERENCE, TODAY)
    assert len(f"{record.first_name_latin} {record.last_name_latin}".encode()) <= 56


@pytest.mark.parametrize(
    ("first", "last"),
    [("Àbdélóúàhéd", "Bénàbdérràhmàné Àít Óúmóussa"), ("É" * 14, "É" * 14), ("Ạ" * 10, "Ạ" * 10)],
    ids=["40-letters-57-bytes", "29-letters-57-bytes", "21-letters-of-3-bytes"],
)
def test_a_latin_name_over_56_bytes_is_refused(first, last):
    """Rule Q1: a name within 40 characters but over 56 UTF-8 bytes is refused on the last name."""
    problems = problems_of(first_name_latin=first, last_name_latin=last)
    assert list(problems) == ["last_name_latin"] and "bytes" in problems["last_name_latin"]


def test_a_cooperative_member_names_the_cooperative():
    """A member of a cooperative must name it; others need not."""
    assert list(problems_of(legal_status="cooperative_member")) == ["cooperative_name"]
    record = clean_artisan_record(
        GOOD | {"legal_status": "cooperative_member", "cooperative_name": "Coopérative Al Amal"}, REFERENCE, TODAY
    )
    assert record.cooperative_name == "Coopérative Al Amal"


def test_activity_cannot_start_before_birth():
    """The activity start year is not before the year of birth."""
    assert list(problems_of(activity_start_year="1975")) == ["activity_start_year"]


def test_normalize_phone_refuses_what_is_not_a_moroccan_number():
    """normalize_phone gives None for a foreign or short number (used to look a typed number up)."""
    assert normalize_phone("+33 6 12 34 56 78") is None
    assert normalize_phone("0612345678") == "+212612345678"


def test_reference_codes_come_from_the_reference_tables(session):
    """The codes a record may name are the ones in the database's reference tables."""
    codes = reference_codes(session)
    assert "03" in codes.regions and "ZEL" in codes.trades and "WOMEN" in codes.programmes
    assert len(codes.regions) == 12

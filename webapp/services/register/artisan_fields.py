"""The register's fields for one artisan: what each must look like, read from raw text.

One set of rules for every way a record enters the register: the back office's create and edit
forms, the bulk import (CSV, XLSX) and the command line. `clean_artisan_record` takes the raw
values as a person or a spreadsheet gives them (strings, or dates and numbers from XLSX cells),
checks every field, and either returns typed values or raises one `InvalidArtisan` naming every
wrong field, so a form shows all problems at once and an import report lists them per column.

Lenient in what it reads (spaces in a CIN, a phone number written 06 12 34 56 78, a date as
31/12/1980, "F" for female), strict in what it stores (one canonical form per value).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Region, SupportProgramme, Trade
from webapp.models.artisan import CnssStatus, Gender, LegalStatus
from webapp.services.cards.tokens import MAX_NAME_BYTES, MAX_NAME_LENGTH
from webapp.services.errors import N_, DomainError
from webapp.services.register.numbers import RNA_EXAMPLE, RNA_PATTERN, rna_region
from webapp.services.register.provinces import province_of_region, province_region

# The columns of the register, in the order of the import template and of exports. The header of a
# spreadsheet column is the field's name.
FIELDS: tuple[str, ...] = (
    "rna_number",
    "cin",
    "first_name_latin",
    "last_name_latin",
    "first_name_ar",
    "last_name_ar",
    "birth_date",
    "gender",
    "phone",
    "region_code",
    "province",
    "address_line",
    "postal_code",
    "city",
    "trade_code",
    "legal_status",
    "cnss_status",
    "cooperative_name",
    "activity_start_year",
    "programmes",
)
# The postal address the card's letter is sent to (none: the card is collected at the chamber). A
# spreadsheet may leave these columns out altogether (files made before they existed): then the
# import keeps the register's addresses as they are.
ADDRESS_FIELDS = ("address_line", "postal_code", "city")
OPTIONAL_COLUMNS = frozenset(ADDRESS_FIELDS)
# The RNA number is given by the system (services/register/numbers.py): a form never asks for it,
# and an import row without one is a new artisan who gets the next number of their region.
REQUIRED_FIELDS = frozenset(FIELDS) - {"rna_number", "phone", "cooperative_name", "programmes", *ADDRESS_FIELDS}

NAME_MAX_LENGTH = 60  # each name column
PROVINCE_MAX_LENGTH = 60
ADDRESS_LINE_MAX_LENGTH = 120
CITY_MAX_LENGTH = 60
COOPERATIVE_MAX_LENGTH = 120
MIN_AGE = 15  # the minimum working age in Morocco
MAX_AGE = 110

# The CNIE number: one or two letters (the issuing office), then up to six digits.
_CIN = re.compile(r"[A-Z]{1,2}[0-9]{1,6}")
# Moroccan numbers: 05 landlines, 06 and 07 mobiles; nine digits after the 0 or the +212.
_PHONE = re.compile(r"(?:\+212|00212|0)([5-7][0-9]{8})")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()/]")
# Dates as 1980-05-17, or day first: 17/05/1980, 17-05-1980, 17.05.1980 (one or two digits for
# the day and the month).
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DAY_FIRST_DATE = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})")
# A mobile or landline number without its leading 0, as a spreadsheet's number cell keeps it.
# Moroccan postal codes: five digits (e.g. 30000 for Fès).
_POSTAL_CODE = re.compile(r"[0-9]{5}")
_PHONE_WITHOUT_ZERO = re.compile(r"[5-7][0-9]{8}")
# Control characters (a NUL, which PostgreSQL refuses in text; a spreadsheet's line break) are spaces.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Marks that may sit inside a name of either script: spaces, hyphens, apostrophes.
_NAME_PUNCTUATION = frozenset(" -'’")
_ARABIC_BLOCKS = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))
# How people write the enumerated values in a spreadsheet: the stored value, its English, French and
# Arabic words, and one-letter forms, all case-insensitive.
_GENDER_WORDS = {
    Gender.FEMALE: ("female", "f", "femme", "feminin", "féminin", "أنثى", "انثى"),
    Gender.MALE: ("male", "m", "h", "homme", "masculin", "ذكر"),
}
_LEGAL_STATUS_WORDS = {
    LegalStatus.INDEPENDENT: ("independent", "indépendant", "independant"),
    LegalStatus.MASTER_ARTISAN: ("master_artisan", "maître artisan", "maitre artisan"),
    LegalStatus.COOPERATIVE_MEMBER: ("cooperative_member", "membre de coopérative", "cooperative"),
    LegalStatus.COMPANY: ("company", "entreprise", "société", "societe"),
}
_CNSS_WORDS = {
    CnssStatus.NOT_REGISTERED: ("not_registered", "non immatriculé", "non inscrit"),
    CnssStatus.PRE_REGISTERED: ("pre_registered", "pré-immatriculé", "pre-immatricule", "préinscrit"),
    CnssStatus.REGISTERED: ("registered", "immatriculé", "immatricule", "inscrit"),
}


class FieldProblem(DomainError):
    """What is wrong with one field's value: a sentence marked for translation and its values."""

    code = "bad_field"
    http_status = 422

    def __init__(self, message: str, **params: Any) -> None:
        self.message = message  # type: ignore[misc]  # each problem has its own sentence
        super().__init__(**params)


class InvalidArtisan(DomainError):
    """Some fields of an artisan's record are missing or wrong; `problems` has one per field."""

    code = "invalid_artisan"
    http_status = 422
    message = N_("Some fields are missing or wrong: %(fields)s.")

    def __init__(self, problems: dict[str, FieldProblem]) -> None:
        super().__init__(fields=", ".join(field for field in FIELDS if field in problems))
        self.problems = problems

    def details(self, language: str, translate: Callable[..., str]) -> dict[str, Any]:
        return {"fields": {name: translate(p.message, **p.params) for name, p in self.problems.items()}}


@dataclass(frozen=True)
class ReferenceCodes:
    """The codes a record may name, read once per form or import (not once per row)."""

    regions: frozenset[str]
    trades: frozenset[str]
    programmes: frozenset[str]


def reference_codes(session: Session) -> ReferenceCodes:
    return ReferenceCodes(
        regions=frozenset(session.scalars(select(Region.code))),
        trades=frozenset(session.scalars(select(Trade.code))),
        programmes=frozenset(session.scalars(select(SupportProgramme.code))),
    )


@dataclass(frozen=True)
class ArtisanRecord:
    """One artisan's register fields, checked and in their stored form."""

    rna_number: str | None  # None: a new artisan gets the next number of their region
    cin: str
    first_name_latin: str
    last_name_latin: str
    first_name_ar: str
    last_name_ar: str
    birth_date: date
    gender: Gender
    phone: str | None
    region_code: str
    province: str
    address_line: str | None
    postal_code: str | None
    city: str | None
    trade_code: str
    legal_status: LegalStatus
    cnss_status: CnssStatus
    cooperative_name: str | None
    activity_start_year: int
    programmes: tuple[str, ...]

    def columns(self) -> dict[str, Any]:
        """The values of the artisan table's columns (programmes are a relationship, apart)."""
        return {field: getattr(self, field) for field in FIELDS if field != "programmes"}


def clean_artisan_record(
    raw: Mapping[str, Any],
    reference: ReferenceCodes,
    today: date,
    *,
    kept_place: tuple[str, str] | None = None,
) -> ArtisanRecord:
    """The record's values checked and put in stored form; InvalidArtisan naming every wrong field.

    `kept_place` is the (region, province) an edited artisan has: a province typed before the
    list of provinces existed is kept as it is while neither changes (checked only on change)."""
    problems: dict[str, FieldProblem] = {}
    values: dict[str, Any] = {}
    for field, clean in _CLEANERS.items():
        value = raw.get(field)
        text = _text(value)
        if text == "" and not isinstance(value, date):
            if field in REQUIRED_FIELDS:
                problems[field] = FieldProblem(N_("Required."))
            else:
                values[field] = () if field == "programmes" else None
            continue
        try:
            # The text is made once per field (a bulk import reads 622,000 records): cleaners get
            # the raw value too, for what only the value tells (a date cell, a number cell).
            values[field] = clean(value, text, reference, today)
        except FieldProblem as problem:
            problems[field] = problem
    _check_together(values, problems)
    _check_place(values, problems, kept_place)
    if problems:
        raise InvalidArtisan(problems)
    return ArtisanRecord(**values)


def normalize_cin(value: str) -> str:
    """A CIN as stored: capitals, no spaces (also used to look a typed CIN up)."""
    return re.sub(r"\s", "", value).upper()


def normalize_phone(value: str) -> str | None:
    """A Moroccan phone number as stored (+212 and nine digits), or None if it is not one."""
    match = _PHONE.fullmatch(_PHONE_SEPARATORS.sub("", value))
    return f"+212{match.group(1)}" if match else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is not str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a spreadsheet's number cell: 2001.0 is the year 2001
        value = str(value)
    if not value.isprintable():  # C-fast test first: most cells have no control character
        value = _CONTROL.sub(" ", value)
    # ASCII text is already in NFC: skip the normalisation (most cells of a register are ASCII).
    return (value if value.isascii() else unicodedata.normalize("NFC", value)).strip()


def _rna(_value: Any, text: str, _reference: ReferenceCodes, _today: date) -> str:
    rna = text.upper().replace(" ", "")
    if not RNA_PATTERN.fullmatch(rna):
        raise FieldProblem(
            N_("An RNA number is RNA-, the region's two digits, a dash and seven digits, e.g. %(example)s."),
            example=RNA_EXAMPLE,
        )
    return rna


def _cin(_value: Any, text: str, _reference: ReferenceCodes, _today: date) -> str:
    cin = normalize_cin(text)
    if not _CIN.fullmatch(cin):
        raise FieldProblem(N_("A CIN is one or two letters followed by up to six digits, e.g. AB123456."))
    return cin


@functools.lru_cache(maxsize=65_536)
def _written_in(name: str, is_letter: Callable[[str], bool]) -> bool:
    """Whether every character of `name` is a letter of the script or a name's punctuation. Cached:
    a register repeats the same few thousand names, and this looks each character up by name."""
    return all(is_letter(char) or char in _NAME_PUNCTUATION for char in name)


def _is_latin_letter(char: str) -> bool:
    return char.isalpha() and unicodedata.name(char, "").startswith("LATIN")


def _is_arabic(char: str) -> bool:
    # Letters and the diacritics (harakat) people type; digits and Latin letters are not names.
    code = ord(char)
    in_block = any(low <= code <= high for low, high in _ARABIC_BLOCKS)
    return in_block and (char.isalpha() or unicodedata.category(char) == "Mn")


def _name_in(is_letter: Callable[[str], bool], wrong_script: str) -> Callable[[Any, str, ReferenceCodes, date], str]:
    """The cleaner of a name column written in one script (Latin or Arabic)."""

    def clean(_value: Any, text: str, _reference: ReferenceCodes, _today: date) -> str:
        name = " ".join(text.split())
        if len(name) > NAME_MAX_LENGTH:
            raise FieldProblem(N_("At most %(count)s characters."), count=NAME_MAX_LENGTH)
        if not _written_in(name, is_letter):
            raise FieldProblem(wrong_script)
        return name

    return clean


_latin_name = _name_in(_is_latin_letter, N_("Latin letters only (the Arabic name has its own field)."))
_arabic_name = _name_in(_is_arabic, N_("Arabic letters only (the Latin name has its own field)."))


def _birth_date(value: Any, text: str, _reference: ReferenceCodes, today: date) -> date:
    born = _date(value, text)
    if born is None:
        raise FieldProblem(N_("A date such as 1980-05-17 or 17/05/1980."))
    if not MIN_AGE <= _years_between(born, today) <= MAX_AGE:
        raise FieldProblem(N_("An artisan is between %(low)s and %(high)s years old."), low=MIN_AGE, high=MAX_AGE)
    return born


def _gender(_value: Any, text: str, _reference: ReferenceCodes, _today: date) -> Gender:
    return _choice(text, _GENDER_WORDS, N_("Write female or male."))


def _phone(value: Any, text: str, _reference: ReferenceCodes, _today: date) -> str:
    if isinstance(value, int | float) and _PHONE_WITHOUT_ZERO.fullmatch(text):
        # A number cell of a spreadsheet drops the leading 0 of 0612345678: put it back.
        text = "0" + text
    phone = normalize_phone(text)
    if phone is None:
        raise FieldProblem(N_("A Moroccan number: 05, 06 or 07 and eight digits, or +212 and nine digits."))
    return phone


def _region(_value: Any, text: str, reference: ReferenceCodes, _today: date) -> str:
    code = text.zfill(2) if text.isdigit() else text
    if code not in reference.regions:
        raise FieldProblem(N_("Unknown region code %(code)s: 01 to 12."), code=code)
    return code


def _province(_value: Any, text: str, _reference: ReferenceCodes, _today: date) -> str:
    province = " ".join(text.split())
    if len(province) > PROVINCE_MAX_LENGTH:
        raise FieldProblem(N_("At most %(count)s characters."), count=PROVINCE_MAX_LENGTH)
    return province


def _words(max_length: int) -> Callable[[Any, str, ReferenceCodes, date], str]:
    """The cleaner of a free text column: spaces collapsed, at most `max_length` characters."""

    def clean(_value: Any, text: str, _reference: ReferenceCodes, _today: date) -> str:
        words = " ".join(text.split())
        if len(words) > max_length:
            raise FieldProblem(N_("At most %(count)s characters."), count=max_length)
        return words

    return clean


def _postal_code(value: Any, text: str, _reference: ReferenceCodes, _today: date) -> str:
    if isinstance(value, int | float) and text.isdigit() and len(text) == 4:
        text = "0" + text  # a number cell drops a leading 0
    if not _POSTAL_CODE.fullmatch(text):
        raise FieldProblem(N_("A postal code has five digits, e.g. 30000."))
    return text


def _trade(_value: Any, text: str, reference: ReferenceCodes, _today: date) -> str:
    code = text.upper()
    if code not in reference.trades:
        raise FieldProblem(N_("Unknown trade code %(code)s."), code=code)
    return code


def _legal_status(_value: Any, text: str, _reference: ReferenceCodes, _today: date) -> LegalStatus:
    return _choice(text, _LEGAL_STATUS_WORDS, N_("Write independent, master_artisan, cooperative_member or company."))


def _cnss_status(_value: Any, text: str, _reference: ReferenceCodes, _today: date) -> CnssStatus:
    return _choice(text, _CNSS_WORDS, N_("Write not_registered, pre_registered or registered."))


def _cooperative(_value: Any, text: str, _reference: ReferenceCodes, _today: date) -> str:
    name = " ".join(text.split())
    if len(name) > COOPERATIVE_MAX_LENGTH:
        raise FieldProblem(N_("At most %(count)s characters."), count=COOPERATIVE_MAX_LENGTH)
    return name


def _start_year(_value: Any, text: str, _reference: ReferenceCodes, today: date) -> int:
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise FieldProblem(N_("A year such as 2005."))
    year = int(text)
    if year > today.year:
        raise FieldProblem(N_("Not after this year."))
    return year


def _programmes(_value: Any, text: str, reference: ReferenceCodes, _today: date) -> tuple[str, ...]:
    codes = [code.strip().upper() for code in re.split(r"[;,|]", text) if code.strip()]
    unknown = [code for code in codes if code not in reference.programmes]
    if unknown:
        raise FieldProblem(N_("Unknown programme code %(code)s."), code=", ".join(unknown))
    return tuple(dict.fromkeys(codes))  # in order, each once


_CLEANERS: dict[str, Callable[[Any, str, ReferenceCodes, date], Any]] = {
    "rna_number": _rna,
    "cin": _cin,
    "first_name_latin": _latin_name,
    "last_name_latin": _latin_name,
    "first_name_ar": _arabic_name,
    "last_name_ar": _arabic_name,
    "birth_date": _birth_date,
    "gender": _gender,
    "phone": _phone,
    "region_code": _region,
    "province": _province,
    "address_line": _words(ADDRESS_LINE_MAX_LENGTH),
    "postal_code": _postal_code,
    "city": _words(CITY_MAX_LENGTH),
    "trade_code": _trade,
    "legal_status": _legal_status,
    "cnss_status": _cnss_status,
    "cooperative_name": _cooperative,
    "activity_start_year": _start_year,
    "programmes": _programmes,
}


def _check_together(values: dict[str, Any], problems: dict[str, FieldProblem]) -> None:
    """Rules over two fields, checked once each field is right on its own."""
    first, last = values.get("first_name_latin"), values.get("last_name_latin")
    if first and last and len(f"{first} {last}") > MAX_NAME_LENGTH:
        problems["last_name_latin"] = FieldProblem(
            N_("The card holds at most %(count)s characters for the whole Latin name (first and last)."),
            count=MAX_NAME_LENGTH,
        )
    elif first and last and len(f"{first} {last}".encode()) > MAX_NAME_BYTES:
        # Rule Q1 of docs/card-token.md: the QR code's size follows the name's UTF-8 bytes.
        problems["last_name_latin"] = FieldProblem(
            N_(
                "The card's QR code holds at most %(count)s bytes for the whole Latin name: "
                "each accented letter counts as two. Shorten it or write some letters without accents."
            ),
            count=MAX_NAME_BYTES,
        )
    if values.get("address_line") or values.get("postal_code") or values.get("city"):
        # A letter goes to a street and a town, or to the chamber: never half an address.
        for name in ("address_line", "city"):
            if not values.get(name) and name not in problems:
                problems[name] = FieldProblem(N_("Required with a postal address (or leave the address empty)."))
    cooperative = values.get("cooperative_name", "")
    if values.get("legal_status") == LegalStatus.COOPERATIVE_MEMBER and cooperative is None:
        problems["cooperative_name"] = FieldProblem(N_("Required for a member of a cooperative."))
    born, started = values.get("birth_date"), values.get("activity_start_year")
    if born and started and started < born.year:
        problems["activity_start_year"] = FieldProblem(N_("Not before the year of birth."))


def _check_place(values: dict[str, Any], problems: dict[str, FieldProblem], kept_place: tuple[str, str] | None) -> None:
    """The RNA number's region and the province are the artisan's region's."""
    region, rna, province = values.get("region_code"), values.get("rna_number"), values.get("province")
    if region is None:
        return
    if rna and rna_region(rna) != region:
        problems["rna_number"] = FieldProblem(
            N_("This RNA number is of region %(number_region)s, not of the artisan's region %(region)s."),
            number_region=rna_region(rna),
            region=region,
        )
    if province is None or kept_place == (region, province):
        return
    stored = province_of_region(region, province)
    if stored is not None:
        values["province"] = stored
    elif province_region(province) is not None:
        problems["province"] = FieldProblem(
            N_("%(province)s is in region %(other_region)s, not in region %(region)s: choose one of its provinces."),
            province=province,
            other_region=province_region(province),
            region=region,
        )
    else:
        problems["province"] = FieldProblem(
            N_("Not a province or prefecture of region %(region)s: choose one from the list."), region=region
        )


def _choice(text: str, words: Mapping[Any, tuple[str, ...]], expected: str) -> Any:
    folded = text.casefold()
    for member, spellings in words.items():
        if folded in spellings:
            return member
    raise FieldProblem(expected)


def _date(value: Any, text: str) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    # Two regular expressions rather than strptime per format (five times slower, on every row).
    match = _ISO_DATE.fullmatch(text)
    if match:
        year, month, day = match.groups()
    elif match := _DAY_FIRST_DATE.fullmatch(text):
        day, _separator, month, year = match.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _years_between(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

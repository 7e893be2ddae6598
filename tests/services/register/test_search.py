"""The register's search box, filters and keyset pages, on SQLite (FTS5) and PostgreSQL (GIN)."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update

from tests.conftest import TEST_ACTOR
from webapp.models import Artisan, CnssStatus, Gender, RevocationReason, SupportProgramme, utcnow
from webapp.models.search_keys import search_columns
from webapp.services.bulk import bulk_insert
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.numbers import check_character
from webapp.services.register import search as search_module
from webapp.services.register.search import (
    ArtisanQuery,
    InvalidCursor,
    InvalidSearchFilter,
    count_artisans,
    reindex_artisans,
    search_artisans,
)
from webapp.services.scope import NATIONAL, NOTHING, Scope

FES, MARRAKECH = Scope(region_code="03"), Scope(region_code="07")


@pytest.fixture
def find(session):
    """Ids of the artisans a search finds, every page walked, in the order the pages give them."""

    def run(text: str = "", scope: Scope = NATIONAL, limit: int = 50, **filters) -> list[int]:
        query, ids, cursor = ArtisanQuery(text=text, **filters), [], None
        while True:
            page = search_artisans(session, scope, query, after=cursor, limit=limit)
            ids += [row.id for row in page.rows]
            if page.next_cursor is None:
                return ids
            cursor = page.next_cursor

    return run


LATIN_VARIANTS = [
    ("Mohamed", "Mohammed"),
    ("Mohamed", "Mohamad"),
    ("Mohamed", "Muhammad"),
    ("Mohammed", "Mohamed"),
    ("Muhammad", "mohamed"),
    ("Youssef", "Youssouf"),
    ("Youssef", "Yousef"),
    ("Youssouf", "Youssef"),
    ("Fatima", "Fatma"),
    ("Fatima", "Fatema"),
    ("Fatma", "Fatima"),
    ("Abderrahim", "Abdurrahim"),
    ("Abdurrahim", "Abderrahim"),
    ("Abderrahim", "Abd er-Rahim"),
    ("Abdelkader", "Abdul Kader"),
    ("Lahcen", "Lahçen"),
    ("Lahçen", "LAHCEN"),
    ("Hélène", "helene"),
    ("Helene", "Hélène"),
    ("El Alaoui", "Al-Alaoui"),
    ("El Alaoui", "Alaoui"),
    ("Alaoui", "El Alaoui"),
    ("Ouazzani", "Wazzani"),
    ("Ait Ouahmane", "Ait Wahmane"),
    ("Fatima Zahra", "Fatimazahra"),
]
ARABIC_VARIANTS = [
    ("مُحَمَّد", "محمد"),  # tashkeel
    ("محمد", "مُحَمَّد"),
    ("محـــمد", "محمد"),  # tatweel
    ("أحمد", "احمد"),  # alef forms
    ("احمد", "أحمد"),
    ("إبراهيم", "ابراهيم"),
    ("آمنة", "امنة"),
    ("مصطفى", "مصطفي"),  # alef maqsura / ya
    ("مصطفي", "مصطفى"),
    ("فاطمة", "فاطمه"),  # ta marbuta / ha
    ("فاطمه", "فاطمة"),
    ("العلوي", "علوي"),  # the article
    ("علوي", "العلوي"),
    ("عبد الرحمان", "عبد الرحمن"),
]


@pytest.mark.parametrize("field", ["first_name_latin", "last_name_latin"])
@pytest.mark.parametrize(("stored", "typed"), LATIN_VARIANTS)
def test_each_latin_spelling_variant_finds_its_artisan(session, make_artisan, find, field, stored, typed):
    """A Latin name typed in another transliteration, case or accent finds the artisan, and only them."""
    wanted = make_artisan(**{field: stored})
    make_artisan(first_name_latin="Karim", last_name_latin="Tazi")
    session.commit()
    assert find(typed) == [wanted.id]


@pytest.mark.parametrize("field", ["first_name_ar", "last_name_ar"])
@pytest.mark.parametrize(("stored", "typed"), ARABIC_VARIANTS)
def test_each_arabic_spelling_variant_finds_its_artisan(session, make_artisan, find, field, stored, typed):
    """An Arabic name with or without tashkeel, tatweel, hamza on alef, ya or ta marbuta finds the artisan."""
    wanted = make_artisan(**{field: stored})
    make_artisan(first_name_ar="كريم", last_name_ar="التازي")
    session.commit()
    assert find(typed) == [wanted.id]


def test_exact_spellings_come_before_other_transliterations(session, make_artisan, find):
    """Typing "Mohammed" lists the Mohammeds first (newest first), then the Mohameds and Muhammads."""
    mohammed = make_artisan(first_name_latin="Mohammed")
    mohamed = make_artisan(first_name_latin="Mohamed")
    also_mohammed = make_artisan(first_name_latin="MOHAMMED")
    muhammad = make_artisan(first_name_latin="Muhammad")
    make_artisan(first_name_latin="Mehdi")
    session.commit()
    assert find("mohammed") == [also_mohammed.id, mohammed.id, muhammad.id, mohamed.id]


def test_every_word_must_match_and_a_half_typed_word_is_a_start(session, make_artisan, find):
    """ "Moha benj" finds Mohamed Benjelloun, not Mohamed Tazi nor Ahmed Benjelloun."""
    wanted = make_artisan(first_name_latin="Mohamed", last_name_latin="Benjelloun")
    make_artisan(first_name_latin="Mohamed", last_name_latin="Tazi")
    make_artisan(first_name_latin="Ahmed", last_name_latin="Benjelloun")
    session.commit()
    assert find("Moha benj") == [wanted.id]
    assert find("محمد بنجلون") == []  # make_artisan's Arabic names are خديجة بناني
    assert len(find("خديجة بنا")) == 3


NAMES_OF_A_REGISTER = [
    ("Fatima Zahra", "El Alaoui"),
    ("Aicha", "Amrani"),
    ("Ahmed", "Alami"),
    ("Omar", "Ait Ouahmane"),
    ("Ibrahim", "Idrissi"),
    ("Zineb", "Ziani"),
]


@pytest.mark.parametrize("typed", ["AAAA", "aaaaaa", "Zzzzzz", "zzz", "eeee", "ooo", "ززززز"])
def test_a_query_with_no_real_match_finds_nothing(session, make_artisan, find, typed):
    """A query like AAAA or Zzzzzz, which matches no name, finds no artisan (no loose sound match)."""
    for first, last in NAMES_OF_A_REGISTER:
        make_artisan(first_name_latin=first, last_name_latin=last, first_name_ar="زينب", last_name_ar="الزياني")
    session.commit()
    assert find(typed) == []


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("Benjelloun", "Ben Jelloun"),
        ("Ben Jelloun", "Benjelloun"),
        ("Benjelloun", "ben jell"),
        ("Ait Ouahmane", "Aitouahmane"),
        ("Benjelloun", "Ben Jeloun"),
    ],
)
def test_a_family_name_in_one_word_or_two_finds_the_other(session, make_artisan, find, stored, typed):
    """ "Ben Jelloun" finds Benjelloun and back, and only them."""
    wanted = make_artisan(first_name_latin="Mohamed", last_name_latin=stored)
    make_artisan(first_name_latin="Mohamed", last_name_latin="Jellouli")
    make_artisan(first_name_latin="Ahmed", last_name_latin="Bennis")
    session.commit()
    assert find(typed) == [wanted.id]


@pytest.mark.parametrize(
    ("stored", "typed"),
    [("Ibrahim", "Brahim"), ("Brahim", "Ibrahim"), ("Idriss", "Driss"), ("Driss", "Idriss"), ("Ismail", "Smail")],
)
def test_a_maghrebi_short_form_finds_the_full_name(session, make_artisan, find, stored, typed):
    """ "Brahim" finds Ibrahim (and Driss Idriss, Smail Ismail), and not an unrelated name."""
    wanted = make_artisan(first_name_latin=stored, last_name_latin="Tazi")
    make_artisan(first_name_latin="Karim", last_name_latin="Tazi")
    make_artisan(first_name_latin="Rahma", last_name_latin="Tazi")
    session.commit()
    assert find(typed) == [wanted.id]


def test_a_short_form_comes_after_the_exact_spelling(session, make_artisan, find):
    """Typing Brahim lists the Brahims first, then the Ibrahims."""
    ibrahim = make_artisan(first_name_latin="Ibrahim")
    brahim = make_artisan(first_name_latin="Brahim")
    session.commit()
    assert find("Brahim") == [brahim.id, ibrahim.id]


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("ab123456", "CIN in lower case"),
        ("AB 123456", "CIN with a space"),
        ("rna-t-0999001", "RNA number in lower case"),
        ("0612345678", "national phone"),
        ("06 12 34 56 78", "phone with spaces"),
        ("+212 6 12 34 56 78", "international phone"),
        ("00212612345678", "international phone with 00"),
    ],
)
def test_identifiers_in_any_usual_form_find_their_artisan(session, make_artisan, find, typed, why):
    """CIN, RNA number and phone match by equality, whatever the case and spacing."""
    wanted = make_artisan(cin="AB123456", rna_number="RNA-T-0999001", phone="+212612345678")
    make_artisan(cin="AB123457", rna_number="RNA-T-0999002", phone="0612345679")
    session.commit()
    assert find(typed) == [wanted.id], why


def test_any_card_number_finds_its_holder_even_a_replaced_one(session, make_card, signer, find):
    """A card number, typed in lower case or with look-alikes, finds the holder; so does the number
    of a card that was replaced since."""
    old = make_card()
    new = card_service.replace_card(session, old, signer, TEST_ACTOR, validity_years=5)
    make_card()
    session.commit()
    typed = new.number.lower().replace("0", "o").replace("1", "l")
    assert find(typed) == [old.artisan_id]
    assert find(old.number) == [old.artisan_id]
    assert find("ZZZZZZZZZZ") == []  # not a number with a right check character


def test_a_card_number_without_digits_finds_its_holder_first(session, make_card, find):
    """A card number made only of letters is read as a card number (its holder first), not only as a name."""
    payload = next(p for p in ("YBHEHXKGW", "ABCDEFGHJ", "KMNPQRSTV", "WXYZABCDE") if check_character(p).isalpha())
    card = make_card()
    card.number = payload + check_character(payload)
    session.commit()
    assert find(card.number.lower()) == [card.artisan_id]


def test_filters_narrow_the_list(session, make_artisan, find):
    """Region, trade, gender, CNSS status and programme each keep only the matching artisans."""
    women = session.get(SupportProgramme, "WOMEN")
    a = make_artisan(region_code="03", trade_code="ZEL", gender=Gender.FEMALE, cnss_status=CnssStatus.REGISTERED)
    a.programmes.append(women)
    b = make_artisan(region_code="07", trade_code="TAP", gender=Gender.MALE, cnss_status=CnssStatus.NOT_REGISTERED)
    c = make_artisan(region_code="03", trade_code="TAP", gender=Gender.FEMALE, cnss_status=CnssStatus.PRE_REGISTERED)
    session.commit()
    assert find() == [c.id, b.id, a.id]
    assert find(region_code="03") == [c.id, a.id]
    assert find(trade_code="TAP") == [c.id, b.id]
    assert find(gender="male") == [b.id]
    assert find(cnss_status="pre_registered") == [c.id]
    assert find(programme_code="WOMEN") == [a.id]
    assert find("Khadija", region_code="03", trade_code="TAP") == [c.id]
    assert find(region_code="03", gender="male") == []


def test_card_status_filter_reads_the_latest_card(session, make_artisan, make_card, signer, find):
    """active, suspended, revoked, expired and none follow each artisan's current card; a replaced
    card's holder counts by the new card, and an expired card is expired, not active."""
    active, suspended, revoked, replaced = make_card(), make_card(), make_card(), make_card()
    expired = make_card(now=utcnow() - timedelta(days=366 * 6))
    card_service.suspend_card(session, suspended, "unpaid fee", TEST_ACTOR)
    card_service.revoke_card(session, revoked, RevocationReason.FRAUD, TEST_ACTOR)
    card_service.replace_card(session, replaced, signer, TEST_ACTOR, validity_years=5)
    without_card = make_artisan()
    session.commit()
    assert find(card_status="active") == [replaced.artisan_id, active.artisan_id]
    assert find(card_status="suspended") == [suspended.artisan_id]
    assert find(card_status="revoked") == [revoked.artisan_id]
    assert find(card_status="expired") == [expired.artisan_id]
    assert find(card_status="none") == [without_card.id]
    rows = search_artisans(session, NATIONAL, ArtisanQuery(card_status="suspended")).rows
    assert (rows[0].card_number, rows[0].card_state) == (suspended.number, "suspended")
    assert rows[0].card_expires_at == suspended.expires_at


@pytest.mark.parametrize(
    "query",
    [
        ArtisanQuery(region_code="03\x00"),
        ArtisanQuery(programme_code="X" * 300),
        ArtisanQuery(card_status="lost"),
        ArtisanQuery(card_status="ACTIVE"),
        ArtisanQuery(gender="f"),
        ArtisanQuery(cnss_status="yes"),
    ],
)
def test_an_unknown_filter_value_is_a_named_refusal(session, query):
    """A filter value outside its list is refused with a 422, not a server error or a silent empty list."""
    with pytest.raises(InvalidSearchFilter) as refusal:
        search_artisans(session, NATIONAL, query)
    assert refusal.value.http_status == 422


def test_an_officer_never_sees_another_regions_artisan(session, make_artisan, make_card, find):
    """By name, by identifier, by filter or with a national cursor: Marrakech stays out of Fès's lists."""
    fes = make_card(make_artisan(region_code="03"))
    marrakech = make_card(make_artisan(region_code="07"))
    session.commit()
    marrakech_artisan = session.get(Artisan, marrakech.artisan_id)
    for typed in ("Khadija", "خديجة", marrakech_artisan.cin, marrakech.number, ""):
        assert marrakech.artisan_id not in find(typed, scope=FES)
        assert marrakech.artisan_id in find(typed, scope=MARRAKECH)
    assert find(region_code="07", scope=FES) == []
    assert find("Khadija", scope=FES) == [fes.artisan_id]
    assert find("Khadija", scope=NOTHING) == []
    national = search_artisans(session, NATIONAL, ArtisanQuery(text="Khadija"), limit=1)
    assert national.rows[0].id == marrakech.artisan_id
    continued = search_artisans(session, FES, ArtisanQuery(text="Khadija"), after=national.next_cursor)
    assert [row.id for row in continued.rows] == [fes.artisan_id]


@pytest.mark.parametrize("window", [5, search_module.POSTGRESQL_WINDOW])
@pytest.mark.parametrize("limit", [1, 2, 3, 4, 7, 50])
def test_pages_cover_every_match_exactly_once(session, make_artisan, find, monkeypatch, limit, window):
    """Walking the cursors of a two-tier search, a filtered list and the whole register gives each
    matching artisan once, whatever the page size (pages that end on a tier's last row too), and on
    PostgreSQL whether a page comes from the newest ids or from the GIN index beyond them."""
    monkeypatch.setattr(search_module, "POSTGRESQL_WINDOW", window)
    names = ["Mohammed", "Mohamed", "Muhammad", "Mohammed", "Omar", "Mohamad", "Mohammed", "Mohamed"] * 2
    made = [make_artisan(first_name_latin=name, region_code="03" if i % 3 else "07") for i, name in enumerate(names)]
    session.commit()
    ids_of = {name: {a.id for a in made if a.first_name_latin == name} for name in set(names)}
    found = find("Mohammed", limit=limit)
    exact = sorted(ids_of["Mohammed"], reverse=True)
    assert found[: len(exact)] == exact
    assert sorted(found[len(exact) :], reverse=True) == found[len(exact) :]
    assert sorted(found) == sorted(set().union(*(ids_of[n] for n in ("Mohammed", "Mohamed", "Muhammad", "Mohamad"))))
    assert find(region_code="03", limit=limit) == sorted((a.id for a in made if a.region_code == "03"), reverse=True)
    assert find(limit=limit) == sorted((a.id for a in made), reverse=True)


@pytest.mark.parametrize("typed", ["Khadija\x00", "\x00", "AB\x00123456", "خديجة\u200f", "Khadija\nBennani"])
def test_control_characters_in_the_box_are_spaces(session, make_artisan, find, typed):
    """A NUL (which PostgreSQL refuses in a parameter), a line break or a direction mark in the box
    is read as a space, never a server error."""
    artisan = make_artisan(cin="AB123456")
    session.commit()
    assert find(typed) == [artisan.id]


def test_count_is_the_number_of_rows_the_pages_give_up_to_a_cap(session, make_artisan, find):
    """count_artisans agrees with walking the pages (both tiers, filters, scope), and stops at its cap."""
    for name, region in [("Mohammed", "03"), ("Mohamed", "03"), ("Muhammad", "07"), ("Omar", "03")] * 3:
        make_artisan(first_name_latin=name, region_code=region)
    session.commit()
    for text, scope, filters in [
        ("Mohammed", NATIONAL, {}),
        ("Mohammed", FES, {}),
        ("", NATIONAL, {"region_code": "03"}),
        ("", NATIONAL, {"card_status": "none"}),
        ("Zzz", NATIONAL, {}),
    ]:
        expected = len(find(text, scope=scope, **filters))
        assert count_artisans(session, scope, ArtisanQuery(text=text, **filters)) == expected
    assert count_artisans(session, NATIONAL, ArtisanQuery(text="Mohammed"), cap=4) == 4


def test_a_page_says_when_it_is_the_last(session, make_artisan):
    """No next cursor on a page that ends the list, even when it is exactly full; an empty cursor
    (an empty form field) is the first page."""
    for _ in range(3):
        make_artisan()
    session.commit()
    assert search_artisans(session, NATIONAL, ArtisanQuery(), limit=3).next_cursor is None
    first = search_artisans(session, NATIONAL, ArtisanQuery(), limit=2)
    assert first.next_cursor is not None
    assert search_artisans(session, NATIONAL, ArtisanQuery(), after="", limit=2) == first


def _encoded(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "%%%",
        "é",
        "A" * 500,
        _encoded("1.0.5"),
        _encoded("1.7.5.AAAAAAAAAAAA"),
        _encoded("1.0.-5.AAAAAAAAAAAA"),
        _encoded("2.0.5.AAAAAAAAAAAA"),
        _encoded("1.0.5.AAAAAAAAAAAA"),  # well formed, but written for another search
        base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
    ],
)
def test_a_damaged_cursor_is_a_named_refusal(session, make_artisan, cursor):
    """A cursor that was altered or made up is refused with InvalidCursor (400), not a server error."""
    make_artisan()
    session.commit()
    with pytest.raises(InvalidCursor) as refusal:
        search_artisans(session, NATIONAL, ArtisanQuery(text="Khadija"), after=cursor)
    assert refusal.value.http_status == 400


def test_a_cursor_continues_only_its_own_search(session, make_artisan):
    """The next page of one search cannot be read as the next page of another."""
    for _ in range(2):
        make_artisan()
    session.commit()
    cursor = search_artisans(session, NATIONAL, ArtisanQuery(text="Khadija"), limit=1).next_cursor
    with pytest.raises(InvalidCursor):
        search_artisans(session, NATIONAL, ArtisanQuery(text="Khadija", region_code="03"), after=cursor)


def test_orm_writes_keep_the_index_in_step(session, make_artisan, find):
    """A renamed artisan is found by the new name and no longer by the old; a deleted one by neither."""
    artisan = make_artisan(first_name_latin="Youssef", phone="0611111111")
    session.commit()
    artisan.first_name_latin = "Brahim"
    artisan.phone = "0622222222"
    session.commit()
    assert (find("Youssef"), find("Brahim"), find("0611111111"), find("0622222222")) == (
        [],
        [artisan.id],
        [],
        [artisan.id],
    )
    session.delete(artisan)
    session.commit()
    assert find("Brahim") == []


def test_reindex_keys_rows_written_around_the_orm(session, make_artisan, find):
    """Rows bulk-inserted without keys, or renamed in SQL, are found once reindexed; a second
    reindex changes nothing."""
    values = {
        "rna_number": "RNA-B-1",
        "cin": "BB1",
        "first_name_latin": "Youssouf",
        "last_name_latin": "Tazi",
        "first_name_ar": "يوسف",
        "last_name_ar": "التازي",
        "birth_date": utcnow().date().replace(year=1975),
        "gender": Gender.MALE,
        "phone": "0633333333",
        "region_code": "03",
        "province": "Fès",
        "trade_code": "ZEL",
        "legal_status": "independent",
        "cnss_status": CnssStatus.REGISTERED,
        "activity_start_year": 2000,
        "registered_at": utcnow(),
    }
    session.execute(insert(Artisan), [values, {**values, "rna_number": "RNA-B-2", "cin": "BB2", "phone": None}])
    renamed = make_artisan(first_name_latin="Omar")
    session.execute(update(Artisan).where(Artisan.id == renamed.id).values(first_name_latin="Driss"))
    session.commit()
    bulk_ids = session.scalars(select(Artisan.id).where(Artisan.rna_number.like("RNA-B-%"))).all()
    assert (find("Youssef"), find("Driss")) == ([], [])
    assert reindex_artisans(session, [*bulk_ids, renamed.id]) == 3
    session.commit()
    assert sorted(find("Youssef")) == sorted(bulk_ids)
    assert find("التازي") == find("Youssef")
    assert find("06 33 33 33 33") == [min(bulk_ids)]
    assert find("Driss") == [renamed.id] and find("Omar") == []
    assert reindex_artisans(session) == 0


def test_bulk_inserts_can_carry_their_keys(session, find):
    """search_columns(row) added to bulk-inserted rows, several to a statement, makes them searchable at once."""
    values = {
        "rna_number": "RNA-C-1",
        "cin": "CC1",
        "first_name_latin": "Fatma",
        "last_name_latin": "Berrada",
        "first_name_ar": "فاطمة",
        "last_name_ar": "برادة",
        "birth_date": utcnow().date().replace(year=1990),
        "gender": Gender.FEMALE,
        "phone": None,
        "region_code": "06",
        "province": "Casablanca",
        "trade_code": "TAP",
        "legal_status": "independent",
        "cnss_status": CnssStatus.REGISTERED,
        "activity_start_year": 2010,
        "registered_at": utcnow(),
    }
    rows = [{**values, "rna_number": f"RNA-C-{i}", "cin": f"CC{i}"} for i in range(3)]
    bulk_insert(session, Artisan.__table__, [{**row, **search_columns(row)} for row in rows], rows_per_statement=2)
    session.commit()
    assert len(find("Fatima Berrada")) == 3 and find("فاطمه") == find("Fatima")


def test_demo_seed_artisans_are_searchable(session, signer, find):
    """The demo register can be searched at once, by a variant of a demo name."""
    from webapp.services.demo import seed

    seed(session, signer, artisan_count=24, validity_years=5)
    session.commit()
    mohameds = session.scalars(select(Artisan.id).where(Artisan.first_name_latin.like("Mohamed%"))).all()
    assert mohameds and sorted(find("Muhammad")) == sorted(mohameds)

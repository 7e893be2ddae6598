"""The register within a scope: an officer reads, searches, registers and edits artisans of their own
region only; duplicates are refused per field; every change is audited."""

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.fixtures.support import TEST_ACTOR
from webapp.models import Artisan, AuditEvent, CardStatus, CnssStatus, Gender, RevocationReason, SupportProgramme
from webapp.services.cards.lifecycle import out_of_date_details, renew_card, revoke_card, suspend_card
from webapp.services.register.artisan_fields import ArtisanRecord, clean_artisan_record, reference_codes
from webapp.services.register.artisans import (
    ArtisanQuery,
    BadCursor,
    DuplicateArtisan,
    OutsideOwnRegion,
    artisan_cards,
    artisan_trail,
    cards_in_force,
    count_artisans,
    create_artisan,
    get_artisan,
    list_artisans,
    search_artisans,
    update_artisan,
)
from webapp.services.scope import NATIONAL, NOTHING, RecordNotFound, Scope


def test_an_officer_reads_only_their_region(session, make_artisan):
    """Another region's artisan is not found (404), exactly like one that does not exist."""
    fes = make_artisan(region_code="03")
    marrakech = make_artisan(region_code="07")
    session.commit()
    officer_of_fes = Scope(region_code="03")
    assert get_artisan(session, fes.id, officer_of_fes).id == fes.id
    with pytest.raises(RecordNotFound) as refusal:
        get_artisan(session, marrakech.id, officer_of_fes)
    assert refusal.value.http_status == 404
    assert get_artisan(session, marrakech.id, NATIONAL).id == marrakech.id


def test_lists_are_filtered_by_scope(session, make_artisan):
    """A list in an officer's scope holds only their region; a national one holds all; nothing holds none."""
    ids = {region: make_artisan(region_code=region).id for region in ("03", "07", "03")}
    session.commit()
    assert {a.region_code for a in list_artisans(session, Scope(region_code="03"))} == {"03"}
    assert {a.id for a in list_artisans(session, NATIONAL)} >= set(ids.values())
    assert list_artisans(session, NOTHING) == []


# Creating and updating ------------------------------------------------------------------------

OFFICER_OF_FES = Scope(region_code="03")


def record_of(session, **changes) -> ArtisanRecord:
    """A checked record from raw values (the good defaults, with changes)."""
    raw = {
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
        "activity_start_year": "2001",
        "programmes": "WOMEN",
    }
    if changes.get("region_code", "03") != "03":
        # Another region: one of its provinces, and no RNA number (an update keeps the artisan's,
        # a new artisan gets the next one of their region).
        raw |= {"province": {"07": "Marrakech"}[changes["region_code"]], "rna_number": ""}
    return clean_artisan_record(raw | changes, reference_codes(session), date(2026, 12, 2))


def events(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_create_registers_the_artisan_and_audits_every_field(session):
    """A new artisan is stored with their programmes, and one event keeps the whole record."""
    artisan = create_artisan(session, record_of(session), OFFICER_OF_FES, TEST_ACTOR)
    session.commit()
    assert artisan.id and artisan.cin == "AB123456" and artisan.phone == "+212612345678"
    assert [p.code for p in artisan.programmes] == ["WOMEN"]
    [event] = events(session, "artisan.create")
    assert event.artisan_id == artisan.id and event.actor == TEST_ACTOR.label
    assert event.after["birth_date"] == "1980-05-17" and event.after["programmes"] == ["WOMEN"]
    assert event.before is None


def test_an_officer_cannot_register_an_artisan_of_another_region(session):
    """The region is refused on its field; nothing is written."""
    with pytest.raises(OutsideOwnRegion) as refusal:
        create_artisan(session, record_of(session, region_code="07"), OFFICER_OF_FES, TEST_ACTOR)
    assert set(refusal.value.problems) == {"region_code"}
    assert session.scalar(select(func.count(Artisan.id))) == 0


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"cin": "ZZ999999"}, {"rna_number"}),
        ({"rna_number": "RNA-03-9999999"}, {"cin"}),
        ({}, {"rna_number", "cin"}),
        ({"cin": " ab 123456 ", "rna_number": "rna-03-0001234"}, {"rna_number", "cin"}),
    ],
)
def test_a_taken_rna_number_or_cin_is_refused_on_its_field(session, changes, fields):
    """The database's unique constraints refuse a duplicate; the refusal names each taken field,
    and the session stays usable (the failed insert was rolled back to its savepoint)."""
    first = create_artisan(session, record_of(session), OFFICER_OF_FES, TEST_ACTOR)
    with pytest.raises(DuplicateArtisan) as refusal:
        # The same person's details: a likely duplicate, confirmed, so that the constraint speaks.
        create_artisan(session, record_of(session, **changes), NATIONAL, TEST_ACTOR, confirmed_duplicates=[first.id])
    assert set(refusal.value.problems) == fields
    session.commit()
    assert session.scalars(select(Artisan.id)).all() == [first.id]
    assert len(events(session, "artisan.create")) == 1


def test_a_duplicate_in_another_region_is_refused_too(session, make_artisan):
    """Uniqueness is national: an officer cannot register a CIN that another region holds."""
    make_artisan(region_code="07", cin="AB123456")
    session.commit()
    with pytest.raises(DuplicateArtisan) as refusal:
        create_artisan(session, record_of(session), OFFICER_OF_FES, TEST_ACTOR)
    assert set(refusal.value.problems) == {"cin"}


def test_update_audits_only_the_changed_fields(session, make_artisan):
    """The event keeps each changed field before and after; nothing else."""
    artisan = make_artisan(rna_number="RNA-03-0001234", cin="AB123456", phone="+212612345678")
    session.commit()
    change = update_artisan(
        session, artisan.id, record_of(session, province="Meknès", phone=""), OFFICER_OF_FES, TEST_ACTOR
    )
    session.commit()
    assert change.changed == ("phone", "province", "programmes")
    [event] = events(session, "artisan.update")
    assert event.before == {"phone": "+212612345678", "province": "Fès", "programmes": []}
    assert event.after == {"phone": None, "province": "Meknès", "programmes": ["WOMEN"]}
    assert event.artisan_id == artisan.id


def test_an_update_that_changes_nothing_writes_no_event(session):
    """Saving the same record again is not a change."""
    artisan = create_artisan(session, record_of(session), OFFICER_OF_FES, TEST_ACTOR)
    change = update_artisan(session, artisan.id, record_of(session), OFFICER_OF_FES, TEST_ACTOR)
    assert change.changed == ()
    assert events(session, "artisan.update") == []


def test_an_officer_cannot_edit_another_regions_artisan_nor_move_one_out(session, make_artisan):
    """Another region's artisan is not found (404); moving one's own out is a named refusal;
    an administrator may move an artisan anywhere."""
    other = make_artisan(region_code="07")
    own = make_artisan(region_code="03", rna_number="RNA-03-0001234", cin="AB123456")
    session.commit()
    with pytest.raises(RecordNotFound):
        update_artisan(session, other.id, record_of(session, region_code="07"), OFFICER_OF_FES, TEST_ACTOR)
    with pytest.raises(OutsideOwnRegion):
        update_artisan(session, own.id, record_of(session, region_code="07"), OFFICER_OF_FES, TEST_ACTOR)
    session.rollback()
    change = update_artisan(
        session, own.id, record_of(session, region_code="07"), NATIONAL, TEST_ACTOR, confirmed_duplicates=[other.id]
    )
    assert "region_code" in change.changed and own.region_code == "07"


def test_an_update_to_a_taken_cin_is_refused_and_leaves_the_record_as_it_was(session, make_artisan):
    """The refused update is rolled back to its savepoint: the artisan keeps its values."""
    other = make_artisan(cin="ZZ999999")
    artisan = make_artisan(rna_number="RNA-03-0001234", cin="AB123456")
    session.commit()
    with pytest.raises(DuplicateArtisan) as refusal:
        update_artisan(
            session,
            artisan.id,
            record_of(session, cin="ZZ999999"),
            OFFICER_OF_FES,
            TEST_ACTOR,
            confirmed_duplicates=[other.id],
        )
    assert set(refusal.value.problems) == {"cin"}
    session.refresh(artisan)
    assert artisan.cin == "AB123456"
    assert events(session, "artisan.update") == []


@pytest.mark.parametrize("artisan_id", [0, -1, 2**31, 2**63])
def test_ids_beyond_sql_integers_are_not_found(session, artisan_id):
    """An id no row can have answers not found, and never reaches the database."""
    with pytest.raises(RecordNotFound):
        get_artisan(session, artisan_id, NATIONAL)


# Card details out of date ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "details"),
    [
        ({}, ()),
        ({"province": "Meknès", "phone": "0700000000"}, ()),
        ({"first_name_latin": "Khadidja"}, ("name",)),
        ({"trade_code": "TAP"}, ("trade",)),
        ({"region_code": "07", "last_name_latin": "Alaoui"}, ("name", "region")),
    ],
)
def test_a_change_of_what_the_card_carries_makes_its_token_out_of_date(
    session, make_artisan, make_card, changes, details
):
    """Latin name, trade and region travel in the token: changing one makes the card out of date
    (it needs renewing); other fields do not."""
    artisan = make_artisan(rna_number="RNA-03-0001234", cin="AB123456", first_name_latin="Khadija")
    card = make_card(artisan)
    update_artisan(session, artisan.id, record_of(session, **changes), NATIONAL, TEST_ACTOR)
    assert out_of_date_details(card) == details


def test_renewing_the_card_brings_its_token_up_to_date(session, make_artisan, make_card, signer):
    """Renew signs the register's current details: nothing is out of date afterwards."""
    artisan = make_artisan(rna_number="RNA-03-0001234", cin="AB123456")
    card = make_card(artisan)
    update_artisan(session, artisan.id, record_of(session, trade_code="TAP"), NATIONAL, TEST_ACTOR)
    assert out_of_date_details(card) == ("trade",)
    renew_card(session, card, signer, TEST_ACTOR, validity_years=5)
    assert out_of_date_details(card) == ()


# Search (provisional) and the artisan's page ----------------------------------------------------


@pytest.fixture
def register(session, make_artisan, make_card):
    """Four artisans of Fès and one of Marrakech, with cards in several states."""
    people = {
        "khadija": make_artisan(first_name_latin="Khadija", last_name_latin="Bennani", phone="+212612345678"),
        "youssef": make_artisan(
            first_name_latin="Youssef", first_name_ar="يوسف", gender=Gender.MALE, trade_code="TAP", cin="XY12345"
        ),
        "amina": make_artisan(first_name_latin="Amina", cnss_status=CnssStatus.NOT_REGISTERED),
        "nadia": make_artisan(first_name_latin="Nadia", last_name_latin="El_Fassi%"),
        "marrakech": make_artisan(first_name_latin="Khadija", region_code="07"),
    }
    people["khadija"].programmes = [session.get(SupportProgramme, "WOMEN")]
    make_card(people["khadija"])
    suspend_card(session, make_card(people["youssef"]), "check", TEST_ACTOR)
    revoke_card(session, make_card(people["amina"]), RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    return people


def found(session, register, scope=OFFICER_OF_FES, **query) -> set[str]:
    ids = {artisan.id: name for name, artisan in register.items()}
    page = search_artisans(session, scope, ArtisanQuery(**query))
    return {ids[artisan.id] for artisan in page.rows}


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({}, {"khadija", "youssef", "amina", "nadia"}),
        ({"text": "khadija"}, {"khadija"}),
        ({"text": "KHADIJA bennani"}, {"khadija"}),
        ({"text": "يوسف"}, {"youssef"}),
        ({"text": "xy 12345"}, {"youssef"}),
        ({"text": "06 12 34 56 78"}, {"khadija"}),
        ({"text": "el_fassi%"}, {"nadia"}),
        ({"text": "%"}, {"nadia"}),
        ({"text": "_"}, {"nadia"}),
        ({"trade_code": "TAP"}, {"youssef"}),
        ({"gender": Gender.MALE}, {"youssef"}),
        ({"cnss_status": CnssStatus.NOT_REGISTERED}, {"amina"}),
        ({"programme_code": "WOMEN"}, {"khadija"}),
        ({"card_status": "active"}, {"khadija"}),
        ({"card_status": "suspended"}, {"youssef"}),
        ({"card_status": "revoked"}, {"amina"}),
        ({"card_status": "none"}, {"nadia"}),
        ({"card_status": "expired"}, set()),
        ({"region_code": "07"}, set()),
    ],
)
def test_search_filters_within_the_officers_region(session, register, query, names):
    """Each filter and each kind of search text finds exactly its artisans of the officer's region;
    LIKE wildcards typed in the text are plain characters."""
    assert found(session, register, **query) == names


def test_search_by_card_number_and_rna_number(session, register):
    """A card number (any of the artisan's cards) or an RNA number finds its holder."""
    amina = register["amina"]
    [card] = artisan_cards(session, amina)
    assert found(session, register, text=card.number.lower()) == {"amina"}
    assert found(session, register, text=amina.rna_number.lower()) == {"amina"}


def test_an_administrator_searches_every_region(session, register):
    """A national scope finds the Marrakech artisan too, and the region filter narrows it."""
    assert found(session, register, NATIONAL, text="khadija") == {"khadija", "marrakech"}
    assert found(session, register, NATIONAL, text="khadija", region_code="07") == {"marrakech"}


def test_keyset_pages_cover_the_list_once_newest_first(session, register):
    """Pages of two follow each other through the cursor with no repeat and no gap; the count
    counts every page."""
    seen, cursor = [], None
    while True:
        page = search_artisans(session, OFFICER_OF_FES, ArtisanQuery(), after=cursor, limit=2)
        seen += [artisan.id for artisan in page.rows]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 4
    assert count_artisans(session, OFFICER_OF_FES, ArtisanQuery()) == 4
    assert count_artisans(session, OFFICER_OF_FES, ArtisanQuery(card_status="revoked")) == 1


@pytest.mark.parametrize("cursor", ["abc", "-1", "0", "1.5", "٣", "99999999999", str(2**31 + 1)])
def test_a_bad_cursor_is_a_named_refusal(session, cursor):
    """A cursor that no page gave is refused (400), never sent to the database."""
    with pytest.raises(BadCursor):
        search_artisans(session, NATIONAL, ArtisanQuery(), after=cursor)


def test_cards_in_force_and_history(session, register):
    """The list shows the card in force of each artisan; the page lists every card, newest first."""
    in_force = cards_in_force(session, list(register.values()))
    assert set(in_force) == {register["khadija"].id, register["youssef"].id}
    assert [c.status for c in artisan_cards(session, register["amina"])] == [CardStatus.REVOKED]


def test_the_trail_lists_record_and_card_events_newest_first(session, make_card):
    """Creation, an update and the card's events, newest first, with each card's number."""
    artisan = create_artisan(session, record_of(session), OFFICER_OF_FES, TEST_ACTOR)
    card = make_card(artisan)
    suspend_card(session, card, "check", TEST_ACTOR)
    update_artisan(session, artisan.id, record_of(session, province="Meknès"), OFFICER_OF_FES, TEST_ACTOR)
    trail = artisan_trail(session, artisan)
    assert [entry.event.action for entry in trail] == [
        "artisan.update",
        "card.suspend",
        "card.issue",
        "artisan.create",
    ]
    assert [entry.card_number for entry in trail] == [None, card.number, card.number, None]

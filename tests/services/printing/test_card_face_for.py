"""card_face_for and card_faces_for: what a card's faces show, from the database."""

from __future__ import annotations

from tests.fixtures.photos import drawn_image
from tests.fixtures.support import TEST_ACTOR
from webapp.models import Region
from webapp.services.cards.tokens import qr_text
from webapp.services.printing.card_faces import card_face_for, card_faces_for
from webapp.services.register.photos import prepare_photo, set_photo
from webapp.services.register.reference_data import set_chamber

BASE_URL = "https://carte.test"


def test_face_gathers_holder_trade_region_chamber_and_qr(session, make_artisan, make_card):
    """Names in both scripts, trade and region names, the seeded chamber, the exact QR text, no photo."""
    card = make_card(make_artisan(region_code="03", trade_code="POT", first_name_ar="عبد الله", last_name_ar="العلاوي"))
    face = card_face_for(session, card, public_base_url=BASE_URL)
    assert face.number == card.number
    assert face.name_ar == "عبد الله العلاوي" and face.name_latin == card.artisan.name_latin
    assert (face.trade_fr, face.trade_ar) == ("Poterie et céramique", "الفخار والخزف")
    assert (face.region_fr, face.region_ar) == ("Fès-Meknès", "فاس مكناس")
    assert face.chamber_name_fr == "Chambre d'Artisanat de la Région Fès-Meknès"
    assert face.chamber_address_ar == "فاس، المغرب"
    assert face.qr_text == qr_text(BASE_URL, card.token)
    assert face.verification_url == "https://carte.test/v"
    assert face.photo_jpeg is None


def test_face_carries_the_stored_photo_and_the_ministrys_address(session, make_artisan, make_card):
    """The holder's stored JPEG, and a chamber address entered by the ministry."""
    artisan = make_artisan(region_code="03")
    stored = prepare_photo(drawn_image())
    set_photo(session, artisan, stored, TEST_ACTOR, replaces=None)
    set_chamber(session, "03", TEST_ACTOR, chamber_address_fr="Avenue des Almohades, 30000 Fès")
    card = make_card(artisan)
    face = card_face_for(session, card, public_base_url=BASE_URL)
    assert face.photo_jpeg == stored.jpeg
    assert face.chamber_address_fr == "Avenue des Almohades, 30000 Fès"
    assert session.get(Region, "03").chamber_address_ar == "فاس، المغرب"


def test_faces_of_many_cards_are_each_cards_face(session, make_artisan, make_card):
    """card_faces_for gives, in order, what card_face_for gives for each card, photos included."""
    with_photo = make_artisan(region_code="03")
    set_photo(session, with_photo, prepare_photo(drawn_image()), TEST_ACTOR, replaces=None)
    cards = [make_card(with_photo)] + [make_card(make_artisan(region_code=code)) for code in ("01", "03")]
    faces = card_faces_for(session, cards, public_base_url=BASE_URL)
    assert faces == [card_face_for(session, card, public_base_url=BASE_URL) for card in cards]
    assert faces[0].photo_jpeg is not None and faces[1].photo_jpeg is None
    assert card_faces_for(session, [], public_base_url=BASE_URL) == []

"""Card faces and letters for the printing tests: a real signed token, a stored-size photo."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from tests.fixtures.photos import drawn_image
from webapp.services.cards.tokens import CardClaims, qr_text, sign_card_token
from webapp.services.printing.card_faces import CardFace
from webapp.services.printing.letters import Letter
from webapp.services.register.photos import prepare_photo
from webapp.services.register.reference_data import chamber_seed

BASE_URL = "https://carte.artisanat.ma"
KEY = ec.generate_private_key(ec.SECP256R1())
# Arabic with lam-alef ligatures (العلاوي, الأمين) and Latin digits inside.
NAME_AR = "عبد الله العلاوي الأمين"
NAME_LATIN = "Abdellah El Alaoui"


@cache
def stored_photo() -> bytes:
    return prepare_photo(drawn_image()).jpeg


@cache  # ECDSA signatures are randomised: one token per name, so that faces compare equal
def token(name: str = NAME_LATIN, number: str = "7KQ3M9X2AB") -> str:
    claims = CardClaims(number, name, "POT", "03", datetime(2031, 5, 4, 22, 59, 59, tzinfo=UTC), 621_999)
    return sign_card_token(claims, "AbCdEf", KEY)


def make_face(**overrides: Any) -> CardFace:
    face = CardFace(
        number="7KQ3M9X2AB",
        name_latin=NAME_LATIN,
        name_ar=NAME_AR,
        trade_fr="Poterie et céramique",
        trade_ar="الفخار والخزف",
        region_fr="Fès-Meknès",
        region_ar="فاس مكناس",
        expires_on=date(2031, 5, 4),
        photo_jpeg=stored_photo(),
        qr_text=qr_text(BASE_URL, token(overrides.get("name_latin", NAME_LATIN))),
        verification_url=f"{BASE_URL}/v",
        **chamber_seed("03"),
    )
    return replace(face, **overrides)


def make_letter(**overrides: Any) -> Letter:
    seed = chamber_seed("03")
    letter = Letter(
        card_number="7KQ3M9X2AB",
        name_latin=NAME_LATIN,
        name_ar=NAME_AR,
        delivery_address=("12, derb Lalla Aicha", "Fès el Bali", "30110 Fès"),
        activation_code="K7QM-92XA-3B",
        card_app_url=BASE_URL,
        code_valid_until=date(2027, 1, 31),
        **seed,
    )
    return replace(letter, **overrides)

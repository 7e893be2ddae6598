"""Public card numbers: short, unguessable, typed by hand without confusion.

Nine random characters of Crockford's base 32 (no I, L, O, U: 45 bits, so a guess among
622,000 cards succeeds once in 56 million tries) and a Luhn mod 32 check character, which
catches every single mistyped character and every swap of two neighbours but one (0 and Z, as
Luhn's own 09/90 in base 10).
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 9
LENGTH = RANDOM_LENGTH + 1
_VALUE = {char: value for value, char in enumerate(ALPHABET)}
# Crockford's decoding of look-alikes, so a number read aloud or typed still matches.
# A no-break space too: a number copied from a page keeps the one its grouping is shown with.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None, "\u00a0": None})


def check_character(payload: str) -> str:
    """The Luhn mod 32 check character of payload."""
    total, factor = 0, 2
    for char in reversed(payload):
        addend = factor * _VALUE[char]
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def new_card_number() -> str:
    """A fresh random card number with its check character (one draw of 45 random bits)."""
    bits = secrets.randbits(5 * RANDOM_LENGTH)
    payload = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(RANDOM_LENGTH))
    return payload + check_character(payload)


def normalize_card_number(text: str) -> str | None:
    """The canonical card number for typed text, or None if it is not a valid number."""
    candidate = text.strip().upper().translate(_LOOKALIKES)
    if len(candidate) != LENGTH or any(char not in _VALUE for char in candidate):
        return None
    if check_character(candidate[:-1]) != candidate[-1]:
        return None
    return candidate


def card_number_problem(text: str) -> str | None:
    """Why typed text is not a card number, for the person who typed it: "empty"; "typo" when it has
    the shape of a number but its check character does not match (a character mistyped); "format"
    when it is not even shaped like one. None when it is a valid number."""
    candidate = text.strip().upper().translate(_LOOKALIKES)
    if not candidate:
        return "empty"
    if len(candidate) != LENGTH or any(char not in _VALUE for char in candidate):
        return "format"
    if check_character(candidate[:-1]) != candidate[-1]:
        return "typo"
    return None


# The one grouping of a card number, on every screen, the printout and the placeholder: two groups
# of five joined by a no-break space, so a number never breaks across lines. The browser's copy is
# static/js/lib/formats.js (formatCardNumber); docs/card-number-groups.json holds the cases both pass.
GROUP_SEPARATOR = "\u00a0"


def format_card_number(number: str) -> str:
    """Grouped for reading aloud: 'K7M2Q 9XH4T' (a no-break space)."""
    return f"{number[:5]}{GROUP_SEPARATOR}{number[5:]}"

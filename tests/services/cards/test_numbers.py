"""Card numbers: random, self-checking, forgiving of look-alike characters."""

import pytest

from webapp.services.cards.numbers import (
    ALPHABET,
    LENGTH,
    check_character,
    format_card_number,
    new_card_number,
    normalize_card_number,
)


def test_new_numbers_have_the_length_and_a_valid_check_character():
    """A new number is 10 Crockford characters whose last one checks the rest."""
    for _ in range(200):
        number = new_card_number()
        assert len(number) == LENGTH
        assert set(number) <= set(ALPHABET)
        assert normalize_card_number(number) == number


def test_new_numbers_do_not_repeat():
    """Numbers are random: a thousand draws are all different."""
    assert len({new_card_number() for _ in range(1000)}) == 1000


def test_every_single_character_error_is_caught():
    """Changing any one character of a valid number makes it invalid."""
    number = new_card_number()
    for position in range(LENGTH):
        for char in ALPHABET:
            if char != number[position]:
                mistyped = number[:position] + char + number[position + 1 :]
                assert normalize_card_number(mistyped) is None


def test_every_swap_of_neighbours_is_caught():
    """Swapping two different neighbouring characters makes the number invalid (except 0 and Z)."""
    for _ in range(300):
        number = new_card_number()
        for i in range(LENGTH - 1):
            if number[i] != number[i + 1] and {number[i], number[i + 1]} != {"0", "Z"}:
                swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
                assert normalize_card_number(swapped) is None


def test_typed_forms_are_normalized():
    """Lower case, spaces, hyphens and O/I/L look-alikes still find the number."""
    payload = "0123ABCDE"
    number = payload + check_character(payload)
    typed = format_card_number(number).lower().replace("0", "o").replace("1", "l")
    assert normalize_card_number(typed) == number
    assert normalize_card_number(f"{number[:5]}-{number[5:]}") == number


@pytest.mark.parametrize("text", ["", "ABC", "0123ABCDEFG", "0123ABCDEU", "0123ABCDE!", "٠١٢٣٤٥٦٧٨٩"])
def test_invalid_numbers_are_refused(text):
    """Wrong length, letters outside the alphabet or a wrong check give None."""
    assert normalize_card_number(text) is None

"""The rules of a chosen password: length, nothing of one's name or email, not a common password."""

import pytest

from webapp.services.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH_FLOOR,
    PasswordIsPersonal,
    PasswordTooCommon,
    PasswordTooLong,
    PasswordTooShort,
    check_new_password,
    common_passwords,
    temporary_password,
)

EMAIL, NAME = "amina.tazi@chambre-fes.ma", "Amina El Tazi"


def check(password: str, min_length: int = 12) -> None:
    check_new_password(password, email=EMAIL, display_name=NAME, min_length=min_length)


@pytest.mark.parametrize(
    ("password", "refusal"),
    [
        ("short pass", PasswordTooShort),
        ("elevenchars", PasswordTooShort),
        ("x" * (MAX_PASSWORD_LENGTH + 1), PasswordTooLong),
        (EMAIL, PasswordIsPersonal),
        ("AMINA.TAZI@CHAMBRE-FES.MA", PasswordIsPersonal),
        ("amina.tazi2026!", PasswordIsPersonal),
        ("my name is Amina El Tazi", PasswordIsPersonal),
        ("Amina-El-Tazi-99", PasswordIsPersonal),
        ("motdepasse tazi 2026", PasswordIsPersonal),
        ("qwertyuiop123", PasswordTooCommon),
        ("QwertyUiop123", PasswordTooCommon),
        ("1q2w3e4r5t6y", PasswordTooCommon),
        ("PASSWORD1234", PasswordTooCommon),
        ("123456789012", PasswordTooCommon),
    ],
    ids=[
        "ten-characters",
        "eleven-characters",
        "over-the-maximum",
        "the-email",
        "the-email-upper-case",
        "the-local-part",
        "the-whole-name",
        "the-name-with-hyphens",
        "a-name-word",
        "common",
        "common-other-case",
        "common-keyboard-walk",
        "common-upper-case",
        "common-digits",
    ],
)
def test_each_rule_refuses_its_passwords(password, refusal):
    """A password breaking a rule is refused with that rule's error."""
    with pytest.raises(refusal):
        check(password)


@pytest.mark.parametrize(
    "password",
    ["Zellige bleu de Fès 1957", "thé à la menthe, trois verres", "x" * MAX_PASSWORD_LENGTH, "Ali et le tapis rouge"],
    ids=["french-passphrase", "accents-and-commas", "the-maximum", "a-short-name-word-is-no-matter"],
)
def test_a_good_password_follows_every_rule(password):
    """Long, impersonal and uncommon passwords pass (short words of a name, like "Ali" or "El", do not count)."""
    check_new_password(password, email="ali.el@chambre.ma", display_name="Ali El Fassi", min_length=12)


def test_the_minimum_length_is_the_setting():
    """The same password passes with a lower minimum and fails with a higher one."""
    check("tapis de Fès", min_length=12)
    with pytest.raises(PasswordTooShort) as refused:
        check("tapis de Fès", min_length=13)
    assert refused.value.params == {"minimum": 13}


def test_the_common_list_is_the_shipped_ten_thousand():
    """10,000 distinct lower-case entries, none shorter than the lowest allowed minimum length."""
    listed = common_passwords()
    assert len(listed) == 10_000
    assert all(entry == entry.casefold() and len(entry) >= MIN_PASSWORD_LENGTH_FLOOR for entry in listed)


def test_temporary_passwords_are_random_and_readable():
    """Three groups of four characters without look-alikes; never twice the same."""
    made = {temporary_password() for _ in range(50)}
    assert len(made) == 50
    for password in made:
        groups = password.split("-")
        assert [len(group) for group in groups] == [4, 4, 4] and not set(password) & set("01ilo")

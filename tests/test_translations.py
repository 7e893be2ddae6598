"""Every user-facing string is translated: the fr and ar catalogs are complete and in step with the code."""

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po

from webapp.settings import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "webapp" / "translations"
# The keywords of babel.cfg beyond Babel's defaults.
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "N_": None,
    "lazy_ngettext": (1, 2),
    "_n": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "true"}


def catalog_ids(language: str) -> tuple[set[str], list[str]]:
    """The catalog's message ids, and those untranslated or fuzzy."""
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        messages = [message for message in read_po(po_file) if message.id]
    ids = {message.id if isinstance(message.id, str) else message.id[0] for message in messages}
    return ids, [str(message.id) for message in messages if not message.string or message.fuzzy]


def marked_strings() -> set[str]:
    """Every string marked for translation in webapp/ and templates/ (as `pybabel extract` finds them)."""
    found = set()
    sources = [("python", path, None) for path in (PROJECT_ROOT / "webapp").rglob("*.py")]
    sources += [("jinja2", path, JINJA_OPTIONS) for path in (PROJECT_ROOT / "templates").rglob("*.html")]
    for method, path, options in sources:
        for _line, message, _comments, _context in extract_from_file(method, path, KEYWORDS, options=options):
            found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_message_is_translated(language):
    """No empty or fuzzy translation in the catalog."""
    assert catalog_ids(language)[1] == []


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_marked_string_is_in_the_catalog(language):
    """Strings marked in Python and templates all have an entry: no French or Arabic user sees English
    because the catalogs were not updated."""
    assert sorted(marked_strings() - catalog_ids(language)[0]) == []

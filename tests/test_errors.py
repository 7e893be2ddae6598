"""Refusals raised by the services reach people as clear answers: JSON under /api/, a page elsewhere."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask

import webapp.services.cards.lifecycle as lifecycle
import webapp.services.trust.signing_keys as signing_keys
from webapp.errors import handle_domain_error, translated_message
from webapp.services.cards.lifecycle import CardNotFound
from webapp.services.errors import DomainError


@pytest.mark.parametrize(("path", "json_answer"), [("/api/v1/anything", True), ("/some/page", False)])
def test_a_domain_error_is_answered_with_its_status_and_code(app: Flask, path, json_answer):
    """CardNotFound answers 404 with its code in JSON on machine paths and a page elsewhere."""
    with app.test_request_context(path, headers={"Accept-Language": "fr"}):
        body, status = handle_domain_error(CardNotFound("0000000000"))
    assert status == 404
    if json_answer:
        message = "Aucune carte ne porte le numéro 0000000000."
        assert body.get_json() == {"error": "card_not_found", "reason": message, "message": message}
    else:  # on a page for people the number is isolated (FSI ... PDI) inside the sentence
        assert "Aucune carte ne porte le numéro \u20680000000000\u2069." in body.get_data(as_text=True)


@pytest.mark.parametrize(("path", "isolated"), [("/office/artisans", True), ("/api/v1/anything", False)])
def test_values_in_a_refusal_are_isolated_for_people_only(app: Flask, path, isolated):
    """In an Arabic page's refusal the Latin value is wrapped in FSI ... PDI so it keeps its place;
    a JSON answer for programs carries the plain value."""
    with app.test_request_context(path, headers={"Accept-Language": "ar"}):
        message = translated_message(CardNotFound("AB12CD34EF"))
    assert ("\u2068AB12CD34EF\u2069" in message) is isolated
    assert "AB12CD34EF" in message and ("\u2068" in message) is isolated


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_refusal_and_vocabulary_word_is_translated(language):
    """Each DomainError message, and each word put into one (statuses, revocation reasons, key states), has a
    French and an Arabic translation."""
    catalog_path = Path(__file__).resolve().parent.parent / f"webapp/translations/{language}/LC_MESSAGES/messages.po"
    with catalog_path.open("rb") as handle:
        catalog = read_po(handle)
    messages = {error.message for error in _subclasses(DomainError)}
    messages |= set(lifecycle._REFUSED_ACTION_MESSAGES.values()) | set(lifecycle.STATUS_WORDS)
    messages |= set(lifecycle.REVOCATION_WORDS.values()) | set(signing_keys.STATE_LABELS.values())
    untranslated = sorted(m for m in messages if not (catalog.get(m) and catalog.get(m).string))
    assert untranslated == []

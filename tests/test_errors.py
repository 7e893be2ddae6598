"""Refusals raised by the services reach people as clear answers: JSON under /api/, a page elsewhere."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask

import webapp.services.cards.lifecycle as lifecycle
import webapp.services.trust.signing_keys as signing_keys
from webapp.errors import handle_domain_error
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
    else:
        assert "Aucune carte ne porte le numéro 0000000000." in body.get_data(as_text=True)


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

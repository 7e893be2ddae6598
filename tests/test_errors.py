"""Refusals raised by the services reach people as clear answers: JSON under /api/, a page elsewhere."""

import pytest
from flask import Flask

from webapp.errors import handle_domain_error
from webapp.services.cards.lifecycle import CardNotFound


@pytest.mark.parametrize(("path", "json_answer"), [("/api/v1/anything", True), ("/some/page", False)])
def test_a_domain_error_is_answered_with_its_status_and_code(app: Flask, path, json_answer):
    """CardNotFound answers 404 with its code in JSON on machine paths and a page elsewhere."""
    with app.test_request_context(path, headers={"Accept-Language": "fr"}):
        body, status = handle_domain_error(CardNotFound("0000000000"))
    assert status == 404
    if json_answer:
        assert body.get_json() == {"error": "card_not_found", "reason": "Aucune carte ne porte le numéro 0000000000."}
    else:
        assert "Aucune carte ne porte le numéro 0000000000." in body

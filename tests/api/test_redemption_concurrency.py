"""POST /api/v1/redemptions under concurrent requests: the quota is never exceeded and an
idempotent retry writes once, on SQLite (a file, several threads) and on PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select

from tests.fixtures.app import _empty_postgres
from webapp.models import Base, IdempotencyRecord, QuotaUsage, Redemption

URL = "/api/v1/redemptions"
FIELDS = {"weight_kg": "2,5", "destination": "fr"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_schema: str | None) -> str:
    """Each race runs on a SQLite file and, when TEST_DATABASE_URL is set, on PostgreSQL."""
    if request.param == "postgresql":
        if not postgres_schema:
            pytest.skip("TEST_DATABASE_URL is not set: the PostgreSQL race runs with it (.ci/run)")
        _empty_postgres(postgres_schema)
        return postgres_schema
    url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)  # the app builds the schema itself only when no TEST_DATABASE_URL is set
    engine.dispose()
    return url


def concurrently(app: Flask, count: int, request_for: Callable[[int], dict[str, Any]]) -> list[tuple[int, Any, Any]]:
    """Send `count` requests at once (a client per thread, all released together by a barrier):
    (status, JSON body, headers) of each."""
    barrier = threading.Barrier(count, timeout=60)

    def send(number: int) -> tuple[int, Any, Any]:
        client = app.test_client()
        arguments = request_for(number)
        barrier.wait()
        response = client.post(URL, **arguments)
        return response.status_code, response.get_json(), response.headers

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(send, range(count)))


def redemption_request(key: str, card_number: str, offer_id: int, api_key: str) -> dict[str, Any]:
    return {
        "json": {"card": card_number, "offer": offer_id, "fields": FIELDS},
        "headers": {"Authorization": f"Bearer {api_key}", "Idempotency-Key": key},
    }


def test_fifty_concurrent_redemptions_on_a_quota_of_twenty(app, session, make_card, make_offer, make_api_key):
    """Exactly 20 of 50 simultaneous redemptions are accepted, each seeing one fewer left; 30 get quota_spent."""
    new_key = make_api_key()
    offer = make_offer(new_key.api_key.organisation, quota=(20, "month"))
    card = make_card()

    answers = concurrently(app, 50, lambda n: redemption_request(f"race-{n}", card.number, offer.id, new_key.plaintext))

    statuses = Counter(status for status, _body, _headers in answers)
    assert statuses == {201: 20, 409: 30}, [body for status, body, _ in answers if status not in (201, 409)]
    assert {body["error"] for status, body, _ in answers if status == 409} == {"quota_spent"}
    assert sorted(body["remaining"] for status, body, _ in answers if status == 201) == list(range(20))
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Redemption)) == 20
    assert session.scalar(select(QuotaUsage.used)) == 20
    # Refused requests keep nothing, not even their idempotency key: a retry is judged again.
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 20


def test_ten_concurrent_retries_with_one_idempotency_key_write_once(app, session, make_card, make_offer, make_api_key):
    """Ten simultaneous sends of one request with one key: one redemption, ten identical 201 answers."""
    new_key = make_api_key()
    offer = make_offer(new_key.api_key.organisation, quota=(20, "month"))
    card = make_card()
    # A key used within the last minute, as a busy partner's is: the request writes nothing before its claim.
    assert (
        app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {new_key.plaintext}"}).status_code == 200
    )

    answers = concurrently(app, 10, lambda n: redemption_request("same-key", card.number, offer.id, new_key.plaintext))

    assert [status for status, _body, _headers in answers] == [201] * 10, [body for _, body, _ in answers]
    first = answers[0][1]
    assert first["card"] == card.number and first["fields"] == {"weight_kg": 2.5, "destination": "FR"}
    assert all(body == first for _status, body, _headers in answers)
    assert sum(headers.get("Idempotent-Replayed") == "true" for _status, _body, headers in answers) == 9
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Redemption)) == 1
    assert session.scalar(select(QuotaUsage.used)) == 1

"""A database that refuses, does not answer, hangs mid-conversation or holds a lock too long: within
the request's deadline, JSON `503 database_unavailable` for programs and a translated page for
people, /healthz still "ok", /readyz says what failed, and nothing half-written.

No timed assertion: a hang would show as the test client never returning (the request deadline
answers first), and the answers are asserted on.
"""

import sqlite3

import pytest
from sqlalchemy import create_engine, func, select, text

from tests.conftest import TEST_DATABASE_URL, csrf_token_from
from tests.fixtures.outages import FAULT_LIMITS, PausableProxy, SilentListener, closed_port
from webapp.models import AuditEvent, Role, User

# A well-formed card number (check character right) that no test card has.
SOME_CARD_NUMBER = "K7M2Q9XH4V"
MESSAGES = {
    "en": "The service is temporarily unavailable (database).",
    "fr": "Le service est momentanément indisponible (base de données).",
    "ar": "الخدمة غير متاحة مؤقتًا (قاعدة البيانات).",
}


def _postgres_url(port: int) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"


@pytest.fixture(params=["refused", "silent", "hung"])
def outage_app(request, make_app, app):
    """An app (another worker) whose database is down: connection refused, a server that accepts and
    never answers, or (PostgreSQL) a server hung after the worker's connections were made."""
    if request.param == "refused":
        yield make_app(DATABASE_URL=_postgres_url(closed_port()), **FAULT_LIMITS)
    elif request.param == "silent":
        with SilentListener() as listener:
            yield make_app(DATABASE_URL=_postgres_url(listener.port), **FAULT_LIMITS)
    else:
        if not TEST_DATABASE_URL:
            pytest.skip("a hung PostgreSQL needs TEST_DATABASE_URL (CI sets it)")
        url = app.extensions["database"].engine.url
        with PausableProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
            worker = make_app(
                DATABASE_URL=url.set(host="127.0.0.1", port=proxy.port).render_as_string(False), **FAULT_LIMITS
            )
            # Pooled connections made, then the server stops answering.
            assert worker.test_client().get("/readyz").get_json()["checks"]["database"]["ok"]
            proxy.pause()
            yield worker


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_verify_api_answers_503_json(outage_app, language):
    """POST /api/v1/verify: 503 database_unavailable, translated, with Retry-After; never an HTML 500."""
    answer = outage_app.test_client().post(f"/api/v1/verify?lang={language}", json={"qr": "not a card"})
    assert answer.status_code == 503 and answer.is_json
    assert answer.get_json()["error"] == "database_unavailable"
    assert answer.get_json()["message"].startswith(MESSAGES[language])
    assert int(answer.headers["Retry-After"]) > 0


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_persons_page_answers_a_translated_503_page(outage_app, language):
    """The check-by-number page: a 503 page in the reader's language."""
    answer = outage_app.test_client().get(f"/check?card={SOME_CARD_NUMBER}&lang={language}")
    assert answer.status_code == 503 and answer.mimetype == "text/html"
    assert MESSAGES[language] in answer.get_data(as_text=True)


def test_liveness_stays_ok_and_readiness_says_the_database_failed(outage_app):
    """/healthz touches no store; /readyz answers 503, not cached, naming the database."""
    client = outage_app.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Cache-Control"] == "no-store"
    assert ready.get_json()["ready"] is False and "database" in ready.get_json()["failed"]


def test_a_worker_recovers_when_the_database_answers_again(app, make_app):
    """After a hang, the worker's pool holds no connection left mid-query: the next request is served."""
    if not TEST_DATABASE_URL:
        pytest.skip("a hung PostgreSQL needs TEST_DATABASE_URL (CI sets it)")
    url = app.extensions["database"].engine.url
    with PausableProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        worker = make_app(
            DATABASE_URL=url.set(host="127.0.0.1", port=proxy.port).render_as_string(False), **FAULT_LIMITS
        )
        client = worker.test_client()
        assert client.post("/api/v1/verify", json={"qr": "not a card"}).status_code == 200
        proxy.pause()
        assert client.post("/api/v1/verify", json={"qr": "not a card"}).status_code == 503
        proxy.resume()
        assert client.post("/api/v1/verify", json={"qr": "not a card"}).status_code == 200
        assert client.get("/readyz").get_json()["checks"]["database"]["ok"]


class _WriteLock:
    """Another connection holding the lock a sign-in's writes need: SQLite's write lock, or
    PostgreSQL's lock on the audit trail."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> "_WriteLock":
        if self.url.startswith("sqlite"):
            self.sqlite = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self.sqlite.execute("BEGIN IMMEDIATE")
        else:
            self.engine = create_engine(self.url)
            self.connection = self.engine.connect()
            self.connection.execute(text("LOCK TABLE audit_event IN ACCESS EXCLUSIVE MODE"))
        return self

    def __exit__(self, *_: object) -> None:
        if self.url.startswith("sqlite"):
            self.sqlite.execute("ROLLBACK")
            self.sqlite.close()
        else:
            self.connection.rollback()
            self.connection.close()
            self.engine.dispose()


def test_a_write_that_waits_too_long_for_a_lock_answers_503_and_keeps_nothing(
    make_app, session, make_user, database_url
):
    """A failed sign-in writes a failure count and an audit event; with their lock held elsewhere past
    the lock/busy timeout, the sign-in answers 503 and neither is kept (no half-written request)."""
    user = make_user(Role.OFFICER)
    session.commit()
    events_before = session.scalar(select(func.count()).select_from(AuditEvent))
    session.rollback()  # end the read's transaction: it would hold off the lock taken below
    client = make_app(**FAULT_LIMITS).test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    with _WriteLock(database_url):
        answer = client.post("/login", data={"email": user.email, "password": "wrong", "csrf_token": token})
    assert answer.status_code == 503 and MESSAGES["fr"] in answer.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, user.id).failed_sign_ins == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events_before


def test_postgres_connections_carry_the_web_limits_and_jobs_the_jobs_limit(app):
    """Web requests' connections have statement, lock and idle-in-transaction timeouts; a job's
    transaction (session_scope: imports, CLI) has no statement limit."""
    if not TEST_DATABASE_URL:
        pytest.skip("PostgreSQL only (CI sets TEST_DATABASE_URL)")
    database = app.extensions["database"]
    with database.session_factory() as web:
        shown = [web.scalar(text(f"SHOW {name}")) for name in ("statement_timeout", "lock_timeout")]
        assert shown == ["3s", "2s"]
        assert web.scalar(text("SHOW idle_in_transaction_session_timeout")) == "1min"
    with database.session_scope() as job:
        assert job.scalar(text("SHOW statement_timeout")) == "0"


@pytest.mark.parametrize("where", ["view", "after_request"])
def test_a_request_past_its_deadline_is_stopped_and_answered_503(make_app, where):
    """Whatever a request waits on, in its view or in an after_request hook like the commit (here a
    sleep standing for a driver call that never returns), the deadline stops it: 503
    database_unavailable, and the worker serves the next request."""
    import time

    from webapp.access import public

    worker = make_app(**FAULT_LIMITS)

    @public
    def stuck() -> str:
        if where == "view":
            time.sleep(60)
        return "answered"

    calls = []

    def stuck_after(response):
        calls.append(response.status_code)
        if where == "after_request" and len(calls) == 1:
            time.sleep(60)  # the commit; on the 503's pass the hooks roll back instead
        return response

    worker.add_url_rule("/api/v1/test-stuck", "test_stuck", stuck)
    worker.after_request(stuck_after)
    client = worker.test_client()
    answer = client.get("/api/v1/test-stuck")
    assert answer.status_code == 503 and answer.get_json()["error"] == "database_unavailable"
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "endpoint",
    [
        "backoffice.upload_import",
        "backoffice.import_problems",
        "partner.redemptions_csv",
        "partner.redemptions_xlsx",
        # Trust material signed again when stale, inside the request (the status list; offers'
        # eligibility lists are built by jobs, never in a request).
        "public.status_list",
        "api.bundle",
    ],
)
def test_exports_and_uploads_get_the_long_deadline(app, endpoint):
    """Views that legitimately outlast the short deadline carry @long_request."""
    from webapp.faults import LONG_REQUEST

    assert getattr(app.view_functions[endpoint], LONG_REQUEST, False) is True

"""The back office's access matrix: every route of the `backoffice` blueprint (read from the app's URL
map, so a new route is checked the day it is added) for every kind of caller.

- anonymous: sent to the login page;
- an artisan, a partner manager, a partner agent: 403;
- an officer of the record's region, and an administrator: let in, and for the register's own
  routes the route's success (200 for a page, a redirect for a confirmed form or a submitted job);
- an officer of another region: 404 for every route about a record (its existence is not
  disclosed), and an artisan of the record's region cannot be registered by them (422).
Each URL gets a fresh record of Fès-Meknès (03) in the state its route needs."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from datetime import date, timedelta
from itertools import product
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from tests.backoffice.test_register import GOOD_FORM
from tests.fixtures.auth import AuthActions
from tests.fixtures.photos import drawn_image
from tests.fixtures.support import TEST_ACTOR, csrf_token_from
from webapp.models import (
    Artisan,
    ArtisanPhoto,
    Card,
    CardRequest,
    ImportFileKind,
    ImportRun,
    ImportStatus,
    Job,
    JobState,
    PrintBatch,
    RequestKind,
    Role,
    User,
    utcnow,
)
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards import requests as card_requests
from webapp.services.jobs.storage import Storage
from webapp.services.printing import batches as print_batches
from webapp.services.printing.batches import BatchRequest, SelectionKind
from webapp.services.register import import_runs
from webapp.services.register.photos import prepare_photo, set_photo
from webapp.services.scope import Scope

RECORD_REGION, OTHER_REGION = "03", "07"
ANONYMOUS, ARTISAN, MANAGER, AGENT, OFFICER, OTHER_OFFICER, ADMIN = CALLERS = (
    "anonymous",
    "artisan",
    "partner manager",
    "partner agent",
    "officer of the record's region",
    "officer of another region",
    "admin",
)
LOGIN, FORBIDDEN, NOT_FOUND, OK, DONE, REFUSED, LET_IN = (
    "login",
    "403",
    "404",
    "200",
    "302 to the record or task",
    "422",
    "let in",
)
BLUEPRINT = "backoffice"
# Parts of a URL that name one of a few words (any()): each word is checked.
ANY_ARGUMENTS = ("action", "extension", "state", "file")

# The register's routes (webapp/backoffice/register.py and views.py): what a GET and a POST with a
# good form are expected to do for staff who may act. A route not listed here is still checked, by
# role, as "let in" (any answer but a login redirect, 401, 403 or a server error).
KNOWN_ROUTES = {
    "backoffice.home": {"GET": OK},
    "backoffice.artisans": {"GET": OK},
    "backoffice.new_artisan": {"GET": OK, "POST": DONE},
    "backoffice.artisan": {"GET": OK},
    "backoffice.edit_artisan": {"GET": OK, "POST": DONE},
    "backoffice.card_qr": {"GET": OK},
    "backoffice.card_pdf": {"GET": OK},
    # A new card's activation code is shown on the answer to the confirmation (200), once.
    "backoffice.issue_card": {"GET": OK, "POST": OK},
    "backoffice.card_action": {"GET": OK, "POST": DONE},
    "backoffice.artisan_photo": {"GET": OK, "POST": DONE},
    "backoffice.artisan_photo_image": {"GET": OK},
    "backoffice.remove_artisan_photo": {"POST": DONE},
    # An activation code is shown on the answer itself (never in a redirect's flash or cookie).
    "backoffice.activation_code": {"GET": OK, "POST": OK},
    "backoffice.requests": {"GET": OK},
    "backoffice.task": {"GET": OK},
    "backoffice.take_task": {"POST": DONE},
    "backoffice.close_task": {"POST": DONE},
    # Jobs (webapp/backoffice/jobs.py): a done export of region 03 with its file; an export asked
    # leads to its job's page (the tests' queue runs it at once).
    "backoffice.jobs": {"GET": OK},
    "backoffice.job": {"GET": OK},
    "backoffice.job_status": {"GET": OK},
    "backoffice.job_download": {"GET": OK},
    "backoffice.cancel_job": {"POST": DONE},
    "backoffice.export_artisans": {"POST": DONE},
    # Cards for the region's artisans without one: a job of the reader's region, then its page.
    "backoffice.issue_missing_cards": {"GET": OK, "POST": DONE},
    "backoffice.print_batches": {"GET": OK},
    "backoffice.new_print_batch": {"GET": OK},
    "backoffice.print_batch": {"GET": OK},
}
# Routes about an artisan's stored photo: the record gets one first.
PHOTO_ROUTES = ("backoffice.artisan_photo_image", "backoffice.remove_artisan_photo")
_serials = itertools.count(1)


def routes(app: Flask) -> list[tuple[str, Rule]]:
    """(method, rule) of every route of the back office."""
    return sorted(
        (
            (method, rule)
            for rule in app.url_map.iter_rules()
            if rule.endpoint.split(".", 1)[0] == BLUEPRINT
            for method in rule.methods - {"HEAD", "OPTIONS"}
        ),
        key=lambda pair: (pair[1].rule, pair[0]),
    )


class Records:
    """Fresh records of region 03 for each URL: an artisan, with a card in the state a route needs."""

    def __init__(
        self,
        session: Any,
        make_artisan: Callable[..., Artisan],
        make_card: Callable[..., Card],
        storage: Storage,
        make_job: Callable[..., Job],
    ) -> None:
        self.session, self.make_artisan, self.make_card = session, make_artisan, make_card
        self.storage, self.make_job = storage, make_job

    def values(self, rule: Rule, action: str | None) -> dict[str, Any]:
        names = set(rule.arguments) - set(ANY_ARGUMENTS)
        unknown = names - {"artisan_id", "number", "run_id", "request_id", "job_id", "batch_id"}
        assert not unknown, f"{rule.rule}: give the access matrix a value for {sorted(unknown)}"
        if not names:
            return {}
        if names == {"run_id"}:
            return {"run_id": self.import_run().id}
        if names == {"request_id"}:
            return {"request_id": self.card_request().id}
        if names == {"job_id"}:
            return {"job_id": self.job().id}
        if names == {"batch_id"}:
            return {"batch_id": self.print_batch().id}
        artisan = self.make_artisan(region_code=RECORD_REGION)
        if rule.endpoint == "backoffice.issue_card":
            self.session.commit()
            return {"artisan_id": artisan.id}  # no card in force: one can be issued
        if rule.endpoint in PHOTO_ROUTES:
            set_photo(self.session, artisan, prepare_photo(drawn_image()), TEST_ACTOR, replaces=None)
            self.session.commit()
        card = self.make_card(artisan)
        if action == "reinstate":
            card_service.suspend_card(self.session, card, "access matrix", TEST_ACTOR)
            self.session.commit()
        return {"artisan_id": artisan.id} | ({"number": card.number} if "number" in names else {})

    def card_request(self) -> CardRequest:
        """A pending renewal asked by an artisan of region 03 (version 1)."""
        card = self.make_card(self.make_artisan(region_code=RECORD_REGION))
        submitted = card_requests.submit_request(self.session, card.artisan, RequestKind.RENEWAL, TEST_ACTOR)
        self.session.commit()
        return submitted.request

    def job(self) -> Job:
        """An export of region 03, running, with a result file already there: every job route
        answers (the page, its status, the download, the stop button)."""
        job = self.make_job(self.session, kind="register_export", state=JobState.RUNNING, region_code=RECORD_REGION)
        key = f"jobs/{job.id}/register-03.csv"
        with self.storage.writer(key) as target:
            target.write(b"rna_number\r\n")
        job.result_file, job.result_name = key, "register-03.csv"
        job.result_expires_at = utcnow() + timedelta(days=7)
        self.session.commit()
        return job

    def print_batch(self) -> PrintBatch:
        """A prepared batch of region 03 holding one card (its files not rendered: no job runs)."""
        self.make_card(self.make_artisan(region_code=RECORD_REGION))
        request = BatchRequest(SelectionKind.NEW, limit=1)
        batch, _plan = print_batches.prepare_batch(self.session, request, Scope(region_code=RECORD_REGION), TEST_ACTOR)
        self.session.commit()
        return batch

    def import_run(self) -> ImportRun:
        """An import of region 03, cancelled (its file gone): every run route answers, none starts work."""
        officer = self.session.scalar(select(User).where(User.region_code == RECORD_REGION))
        run = import_runs.start_run(
            self.session,
            officer,
            Scope(region_code=RECORD_REGION),
            file_name="fes.csv",
            stored_name="gone.csv",
            kind=ImportFileKind.CSV,
            size=1,
        )
        run.status, run.stored_name = ImportStatus.CANCELLED, None
        self.session.commit()
        return run


def urls_of(rule: Rule, records: Records) -> list[tuple[str, str | None, dict[str, Any]]]:
    """Every URL of a rule (each item of an any() part), each with fresh records: (url, action, values)."""
    names = [name for name in rule._converters if name in ANY_ARGUMENTS]
    choices = [sorted(rule._converters[name].items) for name in names]
    found = []
    for combination in product(*choices) if choices else [()]:
        chosen = dict(zip(names, combination, strict=True))
        action = chosen.get("action")
        values = records.values(rule, action)
        found.append((rule.build(values | chosen)[1], action, values))
    return found


def form_for(endpoint: str, values: dict[str, Any], session: Any) -> dict[str, Any]:
    """A good form for a POST route: what an officer of the record's region would send."""
    serial = next(_serials)
    if endpoint == "backoffice.new_artisan":
        # Someone the register does not hold yet: no likely duplicate to confirm first.
        birth_date = date(1960, 1, 1) + timedelta(days=serial)
        return GOOD_FORM | {"cin": f"AM{serial:06d}", "birth_date": birth_date.isoformat(), "phone": ""}
    if endpoint == "backoffice.edit_artisan":
        artisan = session.get(Artisan, values["artisan_id"])
        session.refresh(artisan)  # the version the edit form would show now (webapp/edit_conflicts.py)
        keys = {"rna_number": artisan.rna_number, "cin": artisan.cin, "version": str(artisan.version)}
        # The artisan's own identity: a plain correction, never one that looks like another record
        # (services/register/duplicates.py would ask for a confirmation first).
        identity = {
            "first_name_latin": artisan.first_name_latin,
            "last_name_latin": artisan.last_name_latin,
            "first_name_ar": artisan.first_name_ar,
            "last_name_ar": artisan.last_name_ar,
            "birth_date": artisan.birth_date.isoformat(),
            "phone": artisan.phone or "",
        }
        return GOOD_FORM | keys | identity | {"province": "Meknès"}
    if endpoint == "backoffice.artisan_photo":
        return {"photo": FileStorage(io.BytesIO(drawn_image()), filename="photo.jpg"), "replaces": ""}
    if endpoint == "backoffice.remove_artisan_photo":
        return {"replaces": session.get(ArtisanPhoto, values["artisan_id"]).sha256}
    if endpoint in ("backoffice.take_task", "backoffice.close_task"):
        return {"version": "1", "outcome": "done", "note": "access matrix"}
    if endpoint == "backoffice.issue_missing_cards":
        return {"region": RECORD_REGION}  # an officer's own region is used whatever is sent
    return {"reason": "access matrix", "revocation_reason": "lost", "replacement_reason": "lost"}


def expected(caller: str, method: str, endpoint: str, values: dict[str, Any], action: str | None = None) -> str:
    if caller == ANONYMOUS:
        return LOGIN
    if caller in (ARTISAN, MANAGER, AGENT):
        return FORBIDDEN
    if caller == OTHER_OFFICER and values:
        return NOT_FOUND
    success = KNOWN_ROUTES.get(endpoint, {}).get(method, LET_IN)
    if (endpoint, method, action) == ("backoffice.card_action", "POST", "replace"):
        success = OK  # the new card's activation code, on the answer
    if caller == OTHER_OFFICER and endpoint == "backoffice.new_artisan" and method == "POST":
        return REFUSED  # an artisan of region 03 is not theirs to register
    return success


# Where a done action leads: the record, the task, or the job it submitted.
DONE_PAGES = ("/office/artisans/", "/office/requests", "/office/jobs/")


def outcome(response: TestResponse, expectation: str) -> str:
    status = response.status_code
    assert status < 500, response.get_data(as_text=True)[:500]
    if status == 302 and response.headers["Location"].startswith("/login"):
        return LOGIN
    if status == 302 and response.headers["Location"].startswith(DONE_PAGES):
        return DONE
    if expectation == LET_IN and status not in (401, 403):
        return LET_IN
    return str(status)


@pytest.fixture
def callers(app, make_user, make_organisation) -> dict[str, Any]:
    """A signed-in client (and its CSRF token) for each kind of caller."""
    organisation = make_organisation()
    people = {
        ARTISAN: make_user(Role.ARTISAN),
        MANAGER: make_user(Role.PARTNER_MANAGER, organisation=organisation),
        AGENT: make_user(Role.PARTNER_AGENT, organisation=organisation),
        OFFICER: make_user(Role.OFFICER, region=RECORD_REGION),
        OTHER_OFFICER: make_user(Role.OFFICER, region=OTHER_REGION),
        ADMIN: make_user(Role.ADMIN),
    }

    def client_for(caller: str) -> tuple[Any, str]:
        client = app.test_client()
        if caller == ANONYMOUS:
            return client, csrf_token_from(client.get("/login").get_data(as_text=True))
        assert AuthActions(client).login(people[caller]).status_code == 302
        return client, csrf_token_from(client.get("/account").get_data(as_text=True))

    return {"client_for": client_for}


@pytest.mark.parametrize("caller", CALLERS)
def test_every_backoffice_route_answers_each_caller_as_the_matrix_says(
    app, session, callers, make_artisan, make_card, make_job, signer, caller
):
    """Every route and method of the back office, for one kind of caller, on fresh records."""
    client, token = callers["client_for"](caller)
    records = Records(session, make_artisan, make_card, app.extensions["jobs"].storage, make_job)
    checked, wrong = 0, []
    for method, rule in routes(app):
        for url, action, values in urls_of(rule, records):
            expectation = expected(caller, method, rule.endpoint, values, action)
            if method == "GET":
                response = client.get(url)
            else:
                data = form_for(rule.endpoint, values, session) | {"csrf_token": token}
                response = client.open(url, method=method, data=data)
            checked += 1
            if outcome(response, expectation) != expectation:
                wrong.append(f"{method} {url}: expected {expectation}, got {response.status_code}")
            response.close()  # a streamed file (a job's download) is closed with its response
    assert wrong == []
    assert checked >= 20  # the map was read: the register's pages, forms and card actions are there


def test_the_matrix_knows_the_registers_routes(app):
    """Every route the matrix expects exists, and each back-office route is restricted by the
    blueprint (none is public)."""
    endpoints = {rule.endpoint for _method, rule in routes(app)}
    assert set(KNOWN_ROUTES) <= endpoints
    for endpoint in endpoints:
        assert not getattr(app.view_functions[endpoint], "is_public", False), endpoint

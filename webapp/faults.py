"""Faults of the stores, answered fast and clearly: a database that refuses, times out or hangs
gives a 503 `database_unavailable` within a few seconds (JSON for programs, a page for people),
never a hang or a 500, and the request keeps nothing it had written.

Three layers bound a request's wait on the database (settings in config/defaults.py):
- libpq's connect_timeout and the pool's timeout, for a server that does not accept;
- PostgreSQL's statement_timeout and lock_timeout, for a server that answers but is slow or locked;
- a per-request deadline (REQUEST_DEADLINE_SECONDS) for a server that is hung: its kernel still
  acknowledges packets, so neither the server's limits nor TCP's ever fire, and libpq would wait on
  the socket forever. gunicorn's sync worker serves one request at a time on its main thread, so
  an interval timer (SIGALRM) interrupts the wait; the exception raised is a BaseException, which
  SQLAlchemy treats as an exit: it invalidates the connection (closed, never back in the pool,
  whose next user would otherwise inherit a query still in flight).
"""

from __future__ import annotations

import signal
import sqlite3
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from flask_login import AnonymousUserMixin
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from werkzeug.wrappers import Response

from webapp.db import get_database, get_session
from webapp.errors import handle_unexpected_error
from webapp.services.errors import N_, DomainError
from webapp.settings import current_settings

View = TypeVar("View", bound=Callable[..., Any])

# Seconds a client is told to wait before trying again after a 503 of the stores.
RETRY_AFTER_SECONDS = 5
LONG_REQUEST = "long_request"


class DatabaseUnavailable(DomainError):
    """The database refused, timed out or did not answer in time."""

    code = "database_unavailable"
    http_status = 503
    message = N_("The service is temporarily unavailable (database). Please try again in a few moments.")


class RequestDeadline(BaseException):
    """Raised by the request's alarm. A BaseException on purpose: SQLAlchemy invalidates the
    connection it interrupts (see the module's docstring), and no `except Exception` swallows it."""


def long_request(view: View) -> View:
    """Give a view REQUEST_LONG_DEADLINE_SECONDS instead of the short deadline (exports, uploads)."""
    setattr(view, LONG_REQUEST, True)
    return view


def _chain(error: BaseException) -> list[BaseException]:
    """The exception and those it was raised from or while handling."""
    chain: list[BaseException] = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return chain


def is_database_unavailable(error: BaseException) -> bool:
    """Whether an exception says the database cannot serve now (rather than a bug of ours)."""
    if any(isinstance(link, RequestDeadline) for link in _chain(error)):
        # The deadline interrupted a driver call whose clean-up then failed (psycopg refuses to
        # restore autocommit after an interrupted pre-ping): the deadline is the cause.
        return True
    if isinstance(error, sa_exc.TimeoutError):
        return True  # the pool had no connection to give in time
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        original = error.orig
        if isinstance(original, sqlite3.OperationalError):
            # Busy (another writer held the lock past the busy timeout) or the file is gone;
            # "no such table" and the like stay bugs (500).
            text = str(original)
            return "locked" in text or "unable to open" in text or "disk I/O" in text
        # psycopg: connection refused or lost, statement_timeout, lock_timeout, admin shutdown...
        if isinstance(error, sa_exc.OperationalError):
            return True
        # ...and what the server says when it ended the session itself (idle in transaction too
        # long: an InternalError), by SQLSTATE class: 08 connection, 57 operator intervention.
        state = getattr(original, "sqlstate", None) or ""
        return state.startswith(("08", "57")) or state in _UNAVAILABLE_STATES
    return False


# idle_in_transaction_session_timeout, lock_not_available, too_many_connections.
_UNAVAILABLE_STATES = frozenset({"25P03", "55P03", "53300"})


def _is_long_request() -> bool:
    return getattr(current_app.view_functions.get(request.endpoint or ""), LONG_REQUEST, False)


def _deadline_seconds() -> int:
    settings = current_settings()
    return settings.REQUEST_LONG_DEADLINE_SECONDS if _is_long_request() else settings.REQUEST_DEADLINE_SECONDS


def on_alarm(_signum: int, _frame: FrameType | None) -> None:
    raise RequestDeadline()


def can_arm() -> bool:
    # Signals reach only the main thread: the threaded development server serves requests on
    # others (no deadline there); gunicorn's sync worker and the test client use the main thread.
    return threading.current_thread() is threading.main_thread()


def arm_deadline() -> None:
    """First before_request: start the request's alarm."""
    seconds = _deadline_seconds()
    if seconds and can_arm():
        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        g.deadline_armed = True
    if _is_long_request() and get_database().is_postgres:
        # A region's export sorts many rows before the first one: the jobs' statement limit, for
        # this request's transaction only (the pooled connection keeps the web's).
        job_limit = current_settings().DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS
        get_session().execute(text(f"SET LOCAL statement_timeout = {job_limit * 1000}"))


def disarm_deadline() -> None:
    if g.pop("deadline_armed", False):
        signal.setitimer(signal.ITIMER_REAL, 0)


def _disarm_after(response: Response) -> Response:
    # after_request, not teardown: a streamed body (an export) is produced after this, under the
    # server's statement_timeout only.
    disarm_deadline()
    return response


def _disarm_on_teardown(_exc: BaseException | None) -> None:
    disarm_deadline()


def unavailable_response(app: Flask, error: BaseException) -> Response:
    """The 503 for a database fault, through the app's error layer (JSON or a translated page)."""
    disarm_deadline()
    current_app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, type(error).__name__)
    session = g.get("db_session")
    if session is not None and any(isinstance(link, RequestDeadline) for link in _chain(error)):
        # The deadline may have struck outside a driver call, the server hung all the same: a
        # ROLLBACK sent now would wait on it with no deadline left. Drop the connections instead
        # (the server rolls back a transaction whose connection is gone).
        session.invalidate()
    if "_login_user" not in g:
        # The error page reads current_user (the header's staff links): without this, Flask-Login
        # would ask the database that has just failed.
        g._login_user = AnonymousUserMixin()
    response = app.make_response(app.handle_user_exception(DatabaseUnavailable()))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _guard_dispatch(app: Flask) -> None:
    """Wrap Flask's full_dispatch_request, the one place that runs before_request hooks, the view
    and after_request (the commit): a database fault anywhere there, or the deadline, becomes a 503
    whose after_request hooks roll the request back (nothing half-written)."""
    dispatch = app.full_dispatch_request

    def full_dispatch_request() -> Response:
        try:
            return dispatch()
        except (RequestDeadline, sa_exc.SQLAlchemyError) as error:
            if not is_database_unavailable(error):
                raise
            # from_error_handler: a second fault while rolling back is logged, not raised again.
            return app.finalize_request(unavailable_response(app, error), from_error_handler=True)

    app.full_dispatch_request = full_dispatch_request  # type: ignore[method-assign]


def handle_store_error(error: sa_exc.SQLAlchemyError) -> Response:
    """A database error raised in a view: 503 when the database is unavailable, else the 500 of any bug."""
    if is_database_unavailable(error):
        return unavailable_response(current_app._get_current_object(), error)  # type: ignore[attr-defined]
    return current_app.make_response(handle_unexpected_error(error))


def init_app(app: Flask) -> None:
    app.register_error_handler(sa_exc.SQLAlchemyError, handle_store_error)
    # The deadline starts before any other hook (the user loader reads the database).
    app.before_request_funcs.setdefault(None, []).insert(0, arm_deadline)
    # Last after_request hook to run (Flask runs them in reverse order): the commit runs under the deadline.
    app.after_request_funcs.setdefault(None, []).insert(0, _disarm_after)
    app.teardown_request(_disarm_on_teardown)
    _guard_dispatch(app)

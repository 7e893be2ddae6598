"""Database engine and the per-request session.

Services flush but never commit; a request commits once, in `commit_request_session`, and any
error rolls the whole request back, so nothing is ever half-written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from webapp.models import Base
from webapp.settings import current_settings


class Database:
    """The engine and session factory of one app."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = _create_engine(url)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error (CLI and scripts)."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def create_all(self) -> None:
        """Create the tables from the models (tests; production uses Alembic)."""
        Base.metadata.create_all(self.engine)


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "savepoint", _begin_before_first_savepoint)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the gunicorn workers read while one writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_before_first_savepoint(connection: Any, _name: str) -> None:
    """Python's sqlite3 opens a transaction only before INSERT, UPDATE or DELETE: a SAVEPOINT sent
    first would open one of its own, which RELEASE commits at once, so a later refusal in the same
    request could no longer roll the savepoint's rows back. Open the transaction first."""
    dbapi_connection = connection.connection.dbapi_connection
    if not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


def init_app(app: Flask) -> None:
    """Attach the database to the app and close each request's session at teardown."""
    app.extensions["database"] = Database(current_settings(app).DATABASE_URL)
    app.after_request(commit_request_session)
    app.teardown_appcontext(close_request_session)


def get_database() -> Database:
    """The current app's Database."""
    return current_app.extensions["database"]


def get_session() -> Session:
    """The session of the current request (created on first use)."""
    if "db_session" not in g:
        g.db_session = get_database().session_factory()
    return g.db_session


def keep_despite_refusal() -> None:
    """Keep this request's writes although it answers a refusal (4xx): a refused sign-in must leave
    its failure count and its audit events. Only for refusals a service decided, fully written."""
    g.keep_despite_refusal = True


def commit_request_session(response: Any) -> Any:
    """Commit the request's work when it succeeded; an error response keeps nothing (unless the view
    asked to keep a refusal's record, above)."""
    session: Session | None = g.get("db_session")
    if session is not None:
        if response.status_code < 400 or (response.status_code < 500 and g.get("keep_despite_refusal")):
            session.commit()
        else:
            session.rollback()
    return response


def close_request_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()

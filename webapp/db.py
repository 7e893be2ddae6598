"""Database engine and the per-request session.

Services flush but never commit; a request commits once, in `commit_request_session`, and any
error rolls the whole request back, so nothing is ever half-written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click
from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from webapp.models import Base
from webapp.settings import Settings, current_settings

# Commands and background jobs on SQLite wait this long for a web request's write lock (they may
# wait: no person is waiting on them).
JOB_SQLITE_BUSY_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Timeouts:
    """The database's limits (settings DATABASE_* and SQLITE_BUSY_TIMEOUT_SECONDS, in seconds)."""

    connect: int = 2
    statement: int = 3
    lock: int = 2
    idle_in_transaction: int = 60
    job_statement: int = 0
    pool: int = 2
    pre_ping: bool = True
    sqlite_busy: int = 3
    # True in commands (`flask --app wsgi ...`): every statement gets the jobs' limit.
    for_jobs: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, *, for_jobs: bool) -> Timeouts:
        return cls(
            connect=settings.DATABASE_CONNECT_TIMEOUT_SECONDS,
            statement=settings.DATABASE_STATEMENT_TIMEOUT_SECONDS,
            lock=settings.DATABASE_LOCK_TIMEOUT_SECONDS,
            idle_in_transaction=settings.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS,
            job_statement=settings.DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS,
            pool=settings.DATABASE_POOL_TIMEOUT_SECONDS,
            pre_ping=settings.DATABASE_POOL_PRE_PING,
            sqlite_busy=settings.SQLITE_BUSY_TIMEOUT_SECONDS,
            for_jobs=for_jobs,
        )

    def postgres_options(self) -> str:
        """libpq `options`: the server enforces these limits on every statement of the connection."""
        statement, lock = (self.job_statement, 0) if self.for_jobs else (self.statement, self.lock)
        limits = {
            "statement_timeout": statement * 1000,
            "lock_timeout": lock * 1000,
            "idle_in_transaction_session_timeout": self.idle_in_transaction * 1000,
        }
        return " ".join(f"-c {name}={value}" for name, value in limits.items())


class Database:
    """The engine and session factory of one app."""

    def __init__(self, url: str, timeouts: Timeouts | None = None) -> None:
        self.url = url
        self.timeouts = timeouts or Timeouts()
        self.engine: Engine = _create_engine(url, self.timeouts)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error (CLI, scripts and background
        jobs): its statements get the jobs' limit, not a web request's (a batch of an import on the
        national register legitimately runs longer than a page)."""
        session = self.session_factory()
        try:
            if self.is_postgres and not self.timeouts.for_jobs:
                # SET LOCAL: for this transaction only; the pooled connection keeps the web's limits.
                session.execute(text(f"SET LOCAL statement_timeout = {self.timeouts.job_statement * 1000}"))
                session.execute(text("SET LOCAL lock_timeout = 0"))
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


def _create_engine(url: str, timeouts: Timeouts) -> Engine:
    if url.startswith("sqlite"):
        busy = JOB_SQLITE_BUSY_TIMEOUT_SECONDS if timeouts.for_jobs else timeouts.sqlite_busy
        engine = create_engine(url, connect_args={"timeout": busy})
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "savepoint", _begin_before_first_savepoint)
        return engine
    connect_args: dict[str, Any] = {}
    if url.startswith("postgresql"):
        connect_args = {"connect_timeout": timeouts.connect, "options": timeouts.postgres_options()}
    return create_engine(url, connect_args=connect_args, pool_pre_ping=timeouts.pre_ping, pool_timeout=timeouts.pool)


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
    # A command (click context) is a job: no web limit on its statements.
    for_jobs = click.get_current_context(silent=True) is not None
    settings = current_settings(app)
    app.extensions["database"] = Database(settings.DATABASE_URL, Timeouts.from_settings(settings, for_jobs=for_jobs))
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

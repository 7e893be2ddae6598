"""What every command shares: who acts, and a session that turns a refusal into one line.

Commands open their own session (commit on success, roll back on error) and print a one-line
reason on a refused operation, with exit status 1, instead of a traceback.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.orm import Session

from webapp.db import get_database
from webapp.keyring import invalidate_keyring
from webapp.services.audit import Actor
from webapp.services.errors import DomainError


def flask_command() -> str:
    """How to run the CLI from here, as a person types it: `.venv/bin/flask --app wsgi` when the
    project's virtualenv runs this command (make run), else `flask --app wsgi`."""
    executable = Path(sys.argv[0])
    if executable.name == "flask" and executable.is_absolute() and executable.is_relative_to(Path.cwd()):
        return f"{os.path.relpath(executable)} --app wsgi"
    if executable.name == "flask" and not executable.is_absolute() and executable.parent != Path("."):
        return f"{executable} --app wsgi"
    return "flask --app wsgi"


def cli_actor() -> Actor:
    return Actor(f"cli:{getpass.getuser()}")


@contextmanager
def refusals_in_one_line() -> Iterator[None]:
    """A refused operation prints its reason and exits with status 1 (for work that opens its own sessions)."""
    try:
        yield
    except DomainError as refusal:
        raise click.ClickException(str(refusal)) from None


@contextmanager
def operation() -> Iterator[Session]:
    """A committed session; a refused operation prints its reason and exits with status 1."""
    try:
        with refusals_in_one_line(), get_database().session_scope() as session:
            yield session
    finally:
        invalidate_keyring()

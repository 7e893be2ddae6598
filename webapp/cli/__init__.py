"""Operator commands: `flask --app wsgi setup | db | keys | cards | register | partners | demo | audit | jobs |
print ...`, one module a group."""

from __future__ import annotations

from flask import Flask

from webapp.cli.audit import audit_cli
from webapp.cli.cards import cards_cli
from webapp.cli.db import db_cli
from webapp.cli.demo import demo_cli, setup
from webapp.cli.jobs import jobs_cli
from webapp.cli.keys import keys_cli
from webapp.cli.partners import partners_cli
from webapp.cli.printing import print_cli
from webapp.cli.register import register_cli


def init_app(app: Flask) -> None:
    for group in (keys_cli, cards_cli, register_cli, partners_cli, demo_cli, db_cli, audit_cli, jobs_cli, print_cli):
        app.cli.add_command(group)
    app.cli.add_command(setup)

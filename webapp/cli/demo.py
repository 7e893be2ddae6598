"""`flask --app wsgi setup` and `demo seed`: development set-up and demo data."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from webapp.cli.operations import cli_actor, flask_command, operation
from webapp.migrations import upgrade_database
from webapp.models import Artisan, SigningKey
from webapp.services import demo
from webapp.services.cards.activation import ActivationPolicy
from webapp.services.register.reference_data import prepare_reference_data
from webapp.services.trust import signing_keys
from webapp.services.trust.signing_keys import load_keyring
from webapp.settings import current_settings, remember_public_base_url

demo_cli = AppGroup("demo", help="Demo data for development and trials.")


@demo_cli.command("seed")
@click.option("--artisans", type=click.IntRange(min=1, max=1_000_000), default=300, show_default=True)
def demo_seed(artisans: int) -> None:
    """Register demo artisans in all 12 regions, issue their cards, and create demo logins."""
    refuse_in_production("demo seed")
    seed_demo(artisans)


def refuse_in_production(command: str) -> None:
    """Demo data creates accounts with a published password: never in production."""
    if current_settings().is_production:
        raise click.ClickException(
            f"`{command}` is for development and trials: it creates accounts with a known password, "
            "so it is refused when CARTE_ENV=production (use `db upgrade` and `keys generate`)"
        )


def seed_demo(artisans: int) -> None:
    with operation() as session:
        keyring = load_keyring(session, current_settings().KEYS_DIR)
        summary = demo.seed(
            session,
            keyring.require_signer(),
            artisan_count=artisans,
            validity_years=current_settings().CARD_VALIDITY_YEARS,
        )
        summary.activation = demo.demo_activation(session, ActivationPolicy.from_settings(current_settings()))
    for line in summary.lines(current_settings().PUBLIC_BASE_URL, flask_command()):
        click.echo(line)


@click.command("setup")
@with_appcontext
@click.option("--demo/--no-demo", "with_demo", default=True, help="Seed demo data on first setup.")
def setup(with_demo: bool) -> None:
    """Development set-up, safe to repeat: migrate, create keys if none, seed demo data once."""
    refuse_in_production("setup")
    upgrade_database(current_settings().DATABASE_URL)
    # The commands run later (cards qr-text, demo seed) have no PUBLIC_BASE_URL in their environment:
    # they read this file, so their QR codes point at the port `PORT=8101 make run` serves.
    base_url = current_settings().PUBLIC_BASE_URL
    kept_in = remember_public_base_url(current_settings().PUBLIC_BASE_URL_FILE, base_url)
    click.echo(f"QR codes point at {base_url} (kept in {kept_in}; `PUBLIC_BASE_URL=... make setup` changes it)")
    with operation() as session:
        prepare_reference_data(session)
        if session.scalar(select(SigningKey.kid).limit(1)) is None:
            key = signing_keys.generate_key(session, current_settings().KEYS_DIR, cli_actor())
            click.echo(f"created signing key {key.kid} in {current_settings().KEYS_DIR}")
    with operation() as session:
        seeded = session.scalar(select(Artisan.id).limit(1)) is not None
    if with_demo and not seeded:
        seed_demo(artisans=300)
    elif with_demo:
        with operation() as session:
            summary = demo.summary_of_existing(session)
            summary.activation = demo.demo_activation(session, ActivationPolicy.from_settings(current_settings()))
        for line in summary.lines(current_settings().PUBLIC_BASE_URL, flask_command()):
            click.echo(line)

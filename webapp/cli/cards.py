"""`flask --app wsgi cards ...`: the card lifecycle, QR codes, the national roll-out and re-signing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.cli.jobs import follow
from webapp.cli.operations import cli_actor, flask_command, operation
from webapp.clock import export_day
from webapp.models import Card, Job, Region, RevocationReason, utcnow
from webapp.services.audit import chain as audit_chain
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.activation import ActivationPolicy, issue_activation_code
from webapp.services.cards.checks import purge_check_batch
from webapp.services.cards.listing import CARD_STATES, card_history, list_cards
from webapp.services.cards.qr import card_qr_png, card_qr_svg
from webapp.services.cards.rollout import cards_issued
from webapp.services.cards.tokens import qr_text
from webapp.services.jobs.rollout import submit_issue_all, submit_reissue
from webapp.services.trust.signing_keys import STATE_LABELS, Signer, load_keyring
from webapp.settings import current_settings

cards_cli = AppGroup(
    "cards",
    help="Cards: issue, list, show, renew, replace, QR codes, suspend, reinstate, revoke, roll-out, reissue, "
    "activation codes.",
)


def _signer(session: Session) -> Signer:
    return load_keyring(session, current_settings().KEYS_DIR).require_signer()


def _validity_years() -> int:
    return int(current_settings().CARD_VALIDITY_YEARS)


def _day(moment: Any) -> str:
    return export_day(moment)  # the day in Morocco, as every screen and export gives it


@cards_cli.command("list")
@click.option("--status", "state", type=click.Choice(CARD_STATES), help="Only cards a verifier reads so today.")
@click.option("--region", "region_code", metavar="CODE", help="Only holders of this region (e.g. 03).")
@click.option("--trade", "trade_code", metavar="CODE", help="Only holders of this trade (e.g. ZEL).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many cards.")
def cards_list(state: str | None, region_code: str | None, trade_code: str | None, limit: int | None) -> None:
    """One card a line, oldest first: number, status, name, region, expiry (first column: the number)."""
    with operation() as session:
        for row in list_cards(session, state=state, region_code=region_code, trade_code=trade_code, limit=limit):
            click.echo(
                f"{row.number}  {row.state:<9}  {row.name_latin:<40}  {row.region_code:<2}  {_day(row.expires_at)}"
            )


@cards_cli.command("show")
@click.argument("card_number")
def cards_show(card_number: str) -> None:
    """A card, its holder and its audit trail (when, who, action, reason)."""
    with operation() as session:
        card = card_service.get_card(session, card_number)
        artisan = card.artisan
        status = card_service.card_state(card)
        if card.status_reason:
            status = f"{status} ({card.status_reason})"
        lines = [
            ("Card", card.number),
            ("Status", status),
            ("Holder", f"{artisan.name_latin}, RNA {artisan.rna_number}"),
            ("Region", f"{artisan.region_code} {artisan.region.name_en}"),
            ("Trade", f"{artisan.trade_code} {artisan.trade.name_en}"),
            ("Issued", _day(card.issued_at)),
            ("Expires", _day(card.expires_at)),
            ("Key", f"{card.key_id} ({STATE_LABELS[card.signing_key.state]})"),
        ]
        if card.replaces is not None:
            lines.append(("Replaces", card.replaces.number))
        if card.replaced_by is not None:
            lines.append(("Replaced by", card.replaced_by.number))
        for label, value in lines:
            click.echo(f"{label + ':':<13}{value}")
        click.echo("Audit trail:")
        history = card_history(session, card)
        not_matching = audit_chain.altered(session, history)
        for event in history:
            when = event.occurred_at.strftime("%Y-%m-%d %H:%M:%SZ")
            mark = "  ALTERED: does not match the audit chain" if event.seq in not_matching else ""
            click.echo(f"  {when}  {event.actor:<20}  {event.action:<15}  {event.reason or ''}{mark}".rstrip())
        if not_matching:
            click.echo(f"Warning: {len(not_matching)} event(s) of this card were changed: run `audit verify`.")


@cards_cli.command("issue")
@click.argument("number_or_rna")
@click.option(
    "--override-revocation",
    is_flag=True,
    help="Issue although the last card was revoked (deceased, fraud, left_trade).",
)
@click.option("--reason", help="Why the override (required with --override-revocation, kept in the audit trail).")
def cards_issue(number_or_rna: str, override_revocation: bool, reason: str | None) -> None:
    """Issue a card to an artisan (RNA number, or one of their card numbers) who has none in force."""
    if reason is not None and not override_revocation:
        raise click.UsageError("--reason goes with --override-revocation.")
    with operation() as session:
        artisan = card_service.find_artisan(session, number_or_rna)
        try:
            card = card_service.issue_card(
                session,
                artisan,
                _signer(session),
                cli_actor(),
                validity_years=_validity_years(),
                override_reason=(reason or "") if override_revocation else None,
            )
        except card_service.RevokedForCause as refusal:
            raise click.ClickException(f'{refusal} Use --override-revocation --reason "...".') from None
        click.echo(f"{card.number} issued to {artisan.rna_number}, expires {_day(card.expires_at)}")


@cards_cli.command("renew")
@click.argument("card_number")
def cards_renew(card_number: str) -> None:
    """Give an active card a new expiry and token (same number)."""
    with operation() as session:
        card = card_service.get_card(session, card_number)
        card_service.renew_card(session, card, _signer(session), cli_actor(), validity_years=_validity_years())
        click.echo(f"{card.number} renewed, expires {_day(card.expires_at)}")


# A replaced card is revoked with one of these reasons ("replaced": damaged, details changed...).
REPLACEMENT_REASONS = {r.value: r for r in (RevocationReason.LOST, RevocationReason.STOLEN, RevocationReason.REPLACED)}


@cards_cli.command("replace")
@click.argument("card_number")
@click.option("--reason", required=True, help="lost, stolen or replaced (damaged, details changed...).")
def cards_replace(card_number: str, reason: str) -> None:
    """Revoke a card in force and issue its holder a new one (new number)."""
    code = REPLACEMENT_REASONS.get(reason.strip().lower())
    if code is None:
        raise click.BadParameter(f"--reason must be one of {', '.join(REPLACEMENT_REASONS)}")
    with operation() as session:
        card = card_service.get_card(session, card_number)
        new_card = card_service.replace_card(
            session, card, _signer(session), cli_actor(), validity_years=_validity_years(), reason=code
        )
        click.echo(f"{card.number} revoked ({code.value}), replaced by {new_card.number}")


NO_WAIT = click.option("--no-wait", is_flag=True, help="Submit the job, print its id and return (`jobs show ID`).")
IN_PROCESS = click.option("--in-process", is_flag=True, help="Run the job in this process (a machine with no worker).")


def _submitted(job: Job, no_wait: bool, in_process: bool) -> Job | None:
    """Follow a submitted job to its end (or run it here); None with --no-wait."""
    if no_wait:
        click.echo(f"job {job.id} submitted: `{flask_command()} jobs show {job.id}` tells how far it is")
        return None
    return follow(job.id, in_process=in_process)


@cards_cli.command("issue-all")
@click.option("--chunk-size", type=click.IntRange(100, 100_000), default=20_000, show_default=True)
@click.option("--region", "region_code", metavar="CODE", help="Only the artisans of this region (e.g. 03).")
@click.option("--list", "list_numbers", is_flag=True, help="Then print each card issued: number and region code.")
@NO_WAIT
@IN_PROCESS
def cards_issue_all(
    chunk_size: int, region_code: str | None, list_numbers: bool, no_wait: bool, in_process: bool
) -> None:
    """Issue a card to every registered artisan who has none in force (national roll-out), as a job.

    Says how many cards each region got; --list also prints every number issued. Artisans whose
    last card was revoked for deceased, fraud or left_trade are skipped and counted.
    The job runs on a worker (`jobs worker`), or here with --in-process; it can be cancelled
    (`jobs cancel ID`) between chunks, and running it again issues only the cards still missing.
    """
    with operation() as session:
        if region_code is not None and session.get(Region, region_code) is None:
            raise click.BadParameter(f"no region {region_code!r}", param_hint="--region")
        _signer(session)  # refused now, not on the worker, when there is no signing key
        job = submit_issue_all(
            session, cli_actor(), region_code=region_code, chunk_size=chunk_size, enqueue=not in_process
        )
    finished = _submitted(job, no_wait, in_process)
    if finished is None:
        return
    summary = finished.summary or {}
    by_region = summary.get("by_region") or {}
    with operation() as session:
        names = {region.code: region.name_en for region in session.scalars(select(Region))}
        issued = cards_issued(session, summary.get("index_ranges") or []) if list_numbers else []
    for number, region in issued:
        click.echo(f"{number}  {region}")
    for region, count in sorted(by_region.items()):
        click.echo(f"  {region} {names.get(region, '')}: {count}")
    click.echo(f"{summary.get('issued', 0)} cards issued")
    skipped = summary.get("skipped") or {}
    if skipped:
        by_reason = ", ".join(f"{reason} {count}" for reason, count in sorted(skipped.items()))
        click.echo(
            f"{sum(skipped.values())} artisans skipped, their last card was revoked: {by_reason} "
            '(a new card for one of them: `cards issue RNA --override-revocation --reason "..."`)'
        )


@cards_cli.command("reissue")
@click.option("--key", "--kid", "kid", required=True, help="Re-sign the cards in force signed by this key.")
@click.option("--chunk-size", type=click.IntRange(1, 100_000), default=1_000, show_default=True)
@NO_WAIT
@IN_PROCESS
def cards_reissue(kid: str, chunk_size: int, no_wait: bool, in_process: bool) -> None:
    """Re-sign every card in force signed by KEY under the signing key (same numbers, indices, expiries),
    as a job.

    One transaction per chunk: safe to cancel (`jobs cancel ID`) and run again. Then `keys retire KEY`.
    """
    with operation() as session:
        signer = _signer(session)
        job = submit_reissue(session, cli_actor(), signer, kid, chunk_size=chunk_size, enqueue=not in_process)
        total = job.total or 0
    click.echo(f"re-signing {kid} with {signer.kid}: {total} cards (job {job.id})", err=True)
    finished = _submitted(job, no_wait, in_process)
    if finished is not None:
        click.echo(f"{(finished.summary or {}).get('reissued', 0)} cards re-signed with key {signer.kid}")


def _printable_card(session: Session, card_number: str, force: bool) -> Card:
    card = card_service.get_card(session, card_number)
    if force:
        return card
    try:
        return card_service.require_valid_today(card)
    except card_service.CardNotValidToday as refusal:
        raise click.ClickException(f"{refusal} Use --force to print it anyway.") from None


FORCE_OPTION = click.option("--force", is_flag=True, help="Print even if the card is revoked, suspended or expired.")


@cards_cli.command("qr-text")
@click.argument("card_number")
@FORCE_OPTION
def cards_qr_text(card_number: str, force: bool) -> None:
    """Print exactly the text of the card's QR code.

    It starts with the instance's PUBLIC_BASE_URL: the environment's, else the one `make setup` kept
    in instance/public_base_url (PUBLIC_BASE_URL_FILE).
    """
    with operation() as session:
        card = _printable_card(session, card_number, force)
        click.echo(qr_text(current_settings().PUBLIC_BASE_URL, card.token))


IMAGE_FORMATS = {".svg": "svg", ".png": "png"}


@cards_cli.command("qr-image")
@click.argument("card_number")
@click.option("--format", "image_format", type=click.Choice(["svg", "png"]), help="Default: from the file name.")
@click.option("--output", required=True, help="File to write (.svg or .png), or - for standard output.")
@click.option("--scale", type=click.IntRange(1, 40), default=None, help="Pixels (PNG) or units (SVG) per module.")
@FORCE_OPTION
def cards_qr_image(card_number: str, image_format: str | None, output: str, scale: int | None, force: bool) -> None:
    """Write the card's QR code as SVG or PNG (ECC M, 4-module quiet zone) for printing."""
    if image_format is None:
        extension = Path(output).suffix.lower()
        if output == "-":
            image_format = "svg"
        elif extension in IMAGE_FORMATS:
            image_format = IMAGE_FORMATS[extension]
        else:
            raise click.ClickException(
                f"Cannot tell the image format of {output!r}: name a .svg or .png file, or give --format."
            )
    with operation() as session:
        card = _printable_card(session, card_number, force)
        render = card_qr_svg if image_format == "svg" else card_qr_png
        options = {"scale": scale} if scale else {}
        data = render(current_settings().PUBLIC_BASE_URL, card.token, **options)
        number = card.number
    try:
        with click.open_file(output, "wb") as handle:  # "-" is standard output
            handle.write(data)
    except OSError as error:
        raise click.ClickException(f"Cannot write {output}: {error.strerror or error}.") from None
    if output == "-":
        return
    click.echo(f"{number} {image_format} {len(data)} bytes -> {output}")


def _status_command(name: str, change: Callable[[Session, Card, str], Any], help_text: str) -> None:
    @cards_cli.command(name, help=help_text)
    @click.argument("card_number")
    @click.option("--reason", required=True, help="Why (kept in the audit trail).")
    def command(card_number: str, reason: str) -> None:
        with operation() as session:
            card = change(session, card_service.get_card(session, card_number), reason)
            click.echo(f"{card.number} {card.status.value}")


# "replaced" is set by a replacement, never typed by an operator.
OPERATOR_REVOCATION_REASONS = {r.value: r for r in RevocationReason if r != RevocationReason.REPLACED}


def _revoke(session: Session, card: Card, reason: str) -> Card:
    code = OPERATOR_REVOCATION_REASONS.get(reason.strip().lower())
    if code is None:
        raise click.BadParameter(f"--reason must be one of {', '.join(OPERATOR_REVOCATION_REASONS)}")
    return card_service.revoke_card(session, card, code, cli_actor())


_status_command("revoke", _revoke, "Revoke a card (reason: lost, stolen, deceased, fraud, left_trade).")
_status_command("suspend", lambda s, c, r: card_service.suspend_card(s, c, r, cli_actor()), "Suspend a card for now.")
_status_command(
    "reinstate",
    lambda s, c, r: card_service.reinstate_card(s, c, cli_actor(), r),
    "Lift a card's suspension.",
)


@cards_cli.command("activation-code")
@click.argument("card_number")
def cards_activation_code(card_number: str) -> None:
    """Issue a new one-time activation code for a card in force; its earlier codes stop working.

    The code is printed once, on the last line, and stored only as a keyed hash.
    """
    with operation() as session:
        card = card_service.get_card(session, card_number)
        policy = ActivationPolicy.from_settings(current_settings())
        code = issue_activation_code(session, card, cli_actor(), policy)
        click.echo(f"{card.number}: activation code valid {policy.validity_days} days; earlier codes no longer work.")
        click.echo(code)


@cards_cli.command("purge-checks")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=5_000, show_default=True)
def cards_purge_checks(batch_size: int) -> None:
    """Delete the card checks (and anonymous monthly counts) older than CARD_CHECK_RETENTION_MONTHS.

    One short transaction per batch, so verifications that record checks meanwhile never wait long;
    run daily (deploy/systemd/carte-purge-checks.timer). Prints how many rows went.
    """
    months = current_settings().CARD_CHECK_RETENTION_MONTHS
    now = utcnow()  # one cut-off for the whole run
    total = 0
    while True:
        with operation() as session:
            deleted = purge_check_batch(session, now, months, batch_size)
        total += deleted
        if deleted == 0:
            break
    click.echo(f"{total} card check rows older than {months} months deleted.")

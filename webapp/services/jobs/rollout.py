"""Card roll-out and re-issue as jobs (issue 16): `cards_issue_all` gives a card to every registered
artisan without one (the national roll-out, or one region's: an officer after an import), and
`cards_reissue` re-signs the cards of a key being rotated out under the signing key.

Both work in chunks, one transaction each (webapp/services/cards/rollout.py), report progress
after each chunk, stop there when cancelled (every committed chunk stays), and are safe to run
again: a rerun finds only the artisans still without a card, and only the cards the old key still
signs. One audit event per card, in the name of whoever asked for the job.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from webapp.models import Job
from webapp.services.audit import Actor
from webapp.services.cards.rollout import (
    SIGNING_PROCESS_FROM,
    count_holders_without_card,
    reissue_cards_signed_by,
    roll_out,
)
from webapp.services.errors import N_
from webapp.services.jobs.context import JobContext
from webapp.services.jobs.jobs import submit_job
from webapp.services.jobs.kinds import JobKind
from webapp.services.trust.signing_keys import Signer, cards_to_reissue, load_keyring

ISSUE_ALL = "cards_issue_all"
REISSUE = "cards_reissue"
ISSUE_CHUNK = 20_000
REISSUE_CHUNK = 1_000


def _signer(ctx: JobContext) -> Signer:
    with ctx.session_scope() as session:
        return load_keyring(session, ctx.settings.KEYS_DIR).require_signer()


def submit_issue_all(
    session: Session,
    actor: Actor,
    *,
    region_code: str | None = None,
    chunk_size: int = ISSUE_CHUNK,
    enqueue: bool = True,
) -> Job:
    """Ask for cards for the artisans without one, of a region (an officer's) or of the whole
    country; the roll-out already queued or running for that scope if there is one."""
    total = count_holders_without_card(session, region_code)
    return submit_job(
        session,
        ISSUE_ALL,
        actor=actor,
        region_code=region_code,
        params={"chunk_size": chunk_size},
        total=total,
        dedupe_key=f"{ISSUE_ALL}:{region_code or 'all'}",
        enqueue=enqueue,
    )


def run_issue_all(ctx: JobContext) -> None:
    signer = _signer(ctx)
    with ctx.session_scope() as session:
        total = count_holders_without_card(session, ctx.region_code)
    ctx.progress(0, total, force=True)
    summary = roll_out(
        ctx.session_scope,
        signer,
        ctx.actor,
        validity_years=int(ctx.settings.CARD_VALIDITY_YEARS),
        chunk_size=int(ctx.params.get("chunk_size") or ISSUE_CHUNK),
        region_code=ctx.region_code,
        signing_process=total >= SIGNING_PROCESS_FROM,
        # After each committed chunk: the heartbeat, and where a cancel stops the roll-out.
        progress=lambda issued: ctx.progress(issued, max(total, issued), force=True),
    )
    ctx.progress(summary.issued, max(total, summary.issued), force=True)
    ctx.add_summary(
        issued=summary.issued,
        skipped={reason.value: count for reason, count in sorted(summary.skipped.items())},
        by_region=dict(sorted(summary.by_region.items())),
        index_ranges=[list(pair) for pair in summary.index_ranges],
    )


def submit_reissue(
    session: Session, actor: Actor, signer: Signer, kid: str, *, chunk_size: int = REISSUE_CHUNK, enqueue: bool = True
) -> Job:
    """Ask for the cards in force signed by `kid` to be re-signed by the signing key (refused at
    once for an unknown key or the signing key itself)."""
    total = cards_to_reissue(session, kid, signer)
    return submit_job(
        session,
        REISSUE,
        actor=actor,
        params={"kid": kid, "chunk_size": chunk_size},
        total=total,
        dedupe_key=f"{REISSUE}:{kid}",
        enqueue=enqueue,
    )


def run_reissue(ctx: JobContext) -> None:
    signer = _signer(ctx)
    kid = str(ctx.params["kid"])
    with ctx.session_scope() as session:
        total = cards_to_reissue(session, kid, signer)
    ctx.progress(0, total, force=True)
    done = 0

    def chunk_done(count: int) -> None:
        nonlocal done
        done += count
        ctx.progress(done, max(total, done), force=True)

    reissued = reissue_cards_signed_by(
        ctx.session_scope,
        kid,
        signer,
        ctx.actor,
        chunk_size=int(ctx.params.get("chunk_size") or REISSUE_CHUNK),
        progress=chunk_done,
    )
    ctx.progress(reissued, max(total, reissued), force=True)
    ctx.add_summary(reissued=reissued, kid=kid, signer=signer.kid)


ISSUE_ALL_KIND = JobKind(name=ISSUE_ALL, label=N_("Cards for the artisans without one"), run=run_issue_all)
REISSUE_KIND = JobKind(name=REISSUE, label=N_("Cards re-signed after a key rotation"), run=run_reissue)

KINDS = (ISSUE_ALL_KIND, REISSUE_KIND)

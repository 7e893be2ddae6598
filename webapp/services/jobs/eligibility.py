"""The `eligibility_lists` job: rebuild and sign the offers' eligibility lists that are stale.

Params: `{"offer_id": N}` for one offer, `{}` for every offer that applies today. Requests never
build a list (webapp/services/partners/eligibility.py, served_eligibility_list): they serve the
last signed one and ask for this job (services/partners/list_rebuilds.py), and so do the changes
that make lists stale. A periodic check (submit_stale_rebuilds, run by the queue's periodic task)
re-signs them before half their validity and after midnight in Morocco.

Safe to rerun and to run twice at once: each offer's list is rebuilt only if it is still stale
when its turn comes (a second job finds the first one's work done), in its own transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import EligibilityListState, Offer, OfferState, utcnow
from webapp.services.errors import N_
from webapp.services.jobs.context import JobContext
from webapp.services.jobs.kinds import JobKind
from webapp.services.partners.eligibility import (
    current_eligibility_list,
    list_is_fresh,
    list_margin,
    register_versions,
)
from webapp.services.partners.list_rebuilds import KIND as KIND_NAME
from webapp.services.partners.list_rebuilds import ask_rebuild
from webapp.services.partners.offers import offer_applies
from webapp.services.partners.rules import moroccan_today
from webapp.services.trust.signing_keys import load_keyring
from webapp.settings import Settings

# A change committed while a round was running makes a list stale again: look again, a few times
# (a register that keeps changing is caught by the next ask, or by the periodic check).
MAX_ROUNDS = 3


def _validity(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.STATUS_LIST_VALIDITY_SECONDS)


def stale_offers(session: Session, validity: timedelta, now: datetime, offer_id: int | None = None) -> list[int]:
    """The ids of the offers that apply today whose list is missing or not fresh (one offer's or all)."""
    statement = select(Offer).where(Offer.state == OfferState.APPROVED).order_by(Offer.id)
    if offer_id is not None:
        statement = statement.where(Offer.id == offer_id)
    versions = register_versions(session)
    today = moroccan_today(now)
    stale = []
    for offer in session.scalars(statement):
        if not offer_applies(offer, today):
            continue
        state = session.get(EligibilityListState, offer.id)
        margin = list_margin(offer, validity)
        if not list_is_fresh(state, offer, versions, validity=validity, now=now, min_remaining=margin):
            stale.append(offer.id)
    return stale


def _rebuild(ctx: JobContext, offer_id: int) -> int | None:
    """Rebuild one offer's list if it is still stale; its eligible count, or None if nothing was done."""
    settings = ctx.settings
    validity = _validity(settings)
    with ctx.session_scope() as session:
        now = utcnow()
        if offer_id not in stale_offers(session, validity, now, offer_id):
            return None  # another job did it meanwhile, or the offer no longer applies
        offer = session.get(Offer, offer_id)
        assert offer is not None
        state = current_eligibility_list(
            session,
            offer,
            load_keyring(session, settings.KEYS_DIR).require_signer,
            public_base_url=settings.PUBLIC_BASE_URL,
            validity=validity,
            ttl_seconds=settings.STATUS_LIST_MAX_AGE_SECONDS,
            now=now,
            min_remaining=list_margin(offer, validity),
        )
        return state.eligible_count


def run(ctx: JobContext) -> None:
    offer_id = ctx.params.get("offer_id")
    validity = _validity(ctx.settings)
    rebuilt: list[int] = []
    for _round in range(MAX_ROUNDS):
        with ctx.session_scope() as session:
            stale = stale_offers(session, validity, utcnow(), offer_id)
        if not stale:
            break
        ctx.progress(0, len(stale))
        for done, stale_id in enumerate(stale, start=1):
            if _rebuild(ctx, stale_id) is not None:
                rebuilt.append(stale_id)
            ctx.progress(done, len(stale))  # between offers: where a cancel stops the job
    ctx.add_summary(rebuilt=len(rebuilt), offers=sorted(set(rebuilt)))


def submit_stale_rebuilds(session: Session, settings: Settings, now: datetime | None = None) -> bool:
    """The periodic check: ask for the rebuild of every offer's stale list (after midnight in
    Morocco, before half a list's validity, or a change no job caught). Submits nothing when every
    list is fresh, so the job table is not filled with empty runs. Returns whether it asked."""
    if not stale_offers(session, _validity(settings), now or utcnow()):
        return False
    ask_rebuild(session)
    return True


KIND = JobKind(name=KIND_NAME, label=N_("Eligibility lists"), run=run)

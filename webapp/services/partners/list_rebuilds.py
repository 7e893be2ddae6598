"""Asking for offers' eligibility lists to be rebuilt: by the `eligibility_lists` job, never inside
a request (issue 16; the job is webapp/services/jobs/eligibility.py).

The services that make lists stale call `ask_rebuild` in the transaction of the change: the card
status list's version bump (a card issued, suspended, revoked, renewed...), the artisans' version
bump (a register edit, an import) and an offer's own version bump (saved, approved, paused, a
withdrawal from a card). A request that finds a list stale asks too. Each ask is one job per
offer (or one for all offers) at a time: `submit_job`'s dedupe key returns the job already queued
or running instead of queueing another, and the job is put on the queue only when the change commits.

This module stays a leaf (models and the job service only): the version-bumping services import it.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from webapp.models import Job, Offer, OfferState
from webapp.services.audit import Actor
from webapp.services.jobs.jobs import submit_job

KIND = "eligibility_lists"
# Who asks when no person does: the change itself (a person's own action is audited by its service).
SYSTEM_ACTOR = Actor("system")


def rebuild_key(offer_id: int | None) -> str:
    """The dedupe key: one queued or running rebuild per offer, and one for every offer."""
    return f"{KIND}:{'all' if offer_id is None else offer_id}"


def ask_rebuild(session: Session, offer_id: int | None = None) -> Job | None:
    """Ask for the stale lists of one offer (or of every offer that applies) to be rebuilt once
    this transaction commits; nothing when no offer is approved (no list to keep fresh)."""
    approved = exists().where(Offer.state == OfferState.APPROVED)
    if offer_id is not None:
        approved = approved.where(Offer.id == offer_id)
    if not session.scalar(select(approved)):
        return None
    return submit_job(
        session,
        KIND,
        actor=SYSTEM_ACTOR,
        params={} if offer_id is None else {"offer_id": offer_id},
        dedupe_key=rebuild_key(offer_id),
    )

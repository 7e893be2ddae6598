"""One-time tokens of create forms: the same form sent twice (the back button and a resubmit, a
second click) creates one record, and the second sending leads to the record the first created.

Each render of a create form carries a new random token (webapp/forms_once.py). The request that
does the work claims it with one insert in its own transaction, like an Idempotency-Key
(services/partners/redemptions.py): a concurrent second sending waits for the first, then finds the
claim. A refused form rolls its claim back with everything else, so the corrected form, same token,
goes through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import FormSubmission, utcnow
from webapp.services.upserts import insert_if_absent

# What forms_once issues: 32 URL-safe characters (secrets.token_urlsafe(24)).
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class Replay:
    """The token was already used: where the record it created is shown ("" while unknown)."""

    result_url: str


def claim_form_token(session: Session, token: str, user_id: int | None, form: str) -> Replay | None:
    """None after claiming the token for this sending; a Replay when it was claimed before.

    A token of another person, or of another form, is a replay with nowhere to go: nothing is
    created and nothing of theirs is shown."""
    values = {"token": token, "user_id": user_id, "form": form, "result_url": "", "created_at": utcnow()}
    if insert_if_absent(session, FormSubmission, values, ["token"]):
        return None
    existing = session.scalar(select(FormSubmission).where(FormSubmission.token == token))
    if existing is None or existing.user_id != user_id or existing.form != form:
        return Replay("")
    return Replay(existing.result_url)


def complete_form_token(session: Session, token: str, result_url: str) -> None:
    """Remember where the record the token created is shown, for its replays."""
    submission = session.get(FormSubmission, token)
    if submission is not None:
        submission.result_url = result_url[:300]
        session.flush()

"""`audit checkpoint` and `audit verify`: what an operator runs, and what each says."""

from __future__ import annotations

from sqlalchemy import text

from tests.cli.conftest import run
from tests.conftest import TEST_ACTOR
from tests.fixtures.audit import drop_append_only_triggers
from webapp.services.cards import lifecycle as card_service


def test_verify_passes_on_an_intact_trail_and_counts_it(runner, session, make_card):
    """Exit 0, the number of events and of checkpoints."""
    card_service.suspend_card(session, make_card(), "inquiry", TEST_ACTOR)
    session.commit()
    code, output = run(runner, "audit", "verify")
    assert code == 0, output
    assert "audit trail intact: 3 events chained, 0 signed checkpoints" in output


def test_verify_exits_1_naming_the_altered_event(runner, session, make_card):
    """An event rewritten behind the triggers' back: exit 1 and its seq and id."""
    card_service.suspend_card(session, make_card(), "inquiry", TEST_ACTOR)
    session.commit()
    drop_append_only_triggers(session)
    session.execute(text("UPDATE audit_event SET reason = 'paid' WHERE seq = 3"))
    session.commit()
    code, output = run(runner, "audit", "verify")
    assert code == 1
    assert "audit trail NOT intact: event seq 3 (id 3) was altered" in output


def test_checkpoint_signs_the_head_and_verify_checks_it(runner, session, make_card):
    """A checkpoint names its size and head; verify then counts it."""
    make_card()
    code, output = run(runner, "audit", "checkpoint")
    assert code == 0, output
    assert output.startswith("checkpoint #1: 2 events, head ")
    code, output = run(runner, "audit", "verify")
    assert code == 0 and "1 signed checkpoints (latest #1 covers 2 events" in output


def test_checkpoint_if_older_than_skips_a_recent_one(runner, make_card):
    """With --if-older-than, a timer that runs often signs only when the latest is old enough."""
    make_card()
    assert run(runner, "audit", "checkpoint")[0] == 0
    code, output = run(runner, "audit", "checkpoint", "--if-older-than", "10")
    assert (code, output.strip()) == (0, "a recent checkpoint exists: none signed")
    code, output = run(runner, "audit", "checkpoint", "--if-older-than", "0")
    assert code == 0 and output.startswith("checkpoint #2: 2 events")


def test_checkpoint_refuses_to_sign_an_altered_trail(runner, session, make_card):
    """The server never vouches for a trail that no longer checks out since its last checkpoint."""
    make_card()
    assert run(runner, "audit", "checkpoint")[0] == 0
    card_service.suspend_card(session, make_card(), "inquiry", TEST_ACTOR)
    session.commit()
    drop_append_only_triggers(session)
    session.execute(text("UPDATE audit_event SET reason = 'paid' WHERE seq = 4"))
    session.commit()
    code, output = run(runner, "audit", "checkpoint")
    assert code == 1
    assert "does not check out since the last checkpoint" in output and "event seq 4" in output


def test_checkpoint_without_a_signing_key_says_so(runner):
    """No key, no checkpoint: the refusal is one line."""
    code, output = run(runner, "audit", "checkpoint")
    assert code == 1 and "Traceback" not in output


def test_cards_show_marks_an_altered_event(runner, session, make_card):
    """`cards show` no longer prints a forged history as if it were true: the changed event is marked."""
    card = make_card()
    card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    session.commit()
    code, output = run(runner, "cards", "show", card.number)
    assert code == 0 and "ALTERED" not in output
    drop_append_only_triggers(session)
    session.execute(text("UPDATE audit_event SET action = 'card.reinstate' WHERE seq = 3"))
    session.commit()
    code, output = run(runner, "cards", "show", card.number)
    altered = [line for line in output.splitlines() if "ALTERED" in line]
    assert len(altered) == 1 and "card.reinstate" in altered[0]
    assert "Warning: 1 event(s) of this card were changed: run `audit verify`." in output

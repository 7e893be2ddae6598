"""`keys ...`: generate, list, rotate, retire, with one-line refusals."""

import re
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.cli.conftest import run
from webapp.models import Card, CardStatus, SigningKey, utcnow
from webapp.services.cards.tokens import verify_card_token
from webapp.services.trust.signing_keys import load_keyring


def test_keys_generate_list_rotate_retire(runner, app):
    """The key commands manage the keyring end to end; private keys are written 0600."""
    code, output = run(runner, "keys", "generate")
    first = output.split()[0]
    assert code == 0 and output.strip().endswith("signing")
    assert stat.S_IMODE((Path(app.config["KEYS_DIR"]) / f"{first}.pem").stat().st_mode) == 0o600
    code, output = run(runner, "keys", "rotate")
    second = output.split()[0]
    assert code == 0 and second != first
    code, output = run(runner, "keys", "list")
    assert re.search(rf"{first}\s+verify only", output) and re.search(rf"{second}\s+signing", output)
    assert run(runner, "keys", "retire", first) == (0, f"{first} retired\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "retire", "nope00"], "No signing key with kid 'nope00'"),
        (["keys", "rotate", "--to", "nope00"], "No signing key with kid 'nope00'"),
    ],
)
def test_refusals_print_one_line_and_exit_1(runner, args, message):
    """A refused operation prints its reason, not a traceback, and exits with status 1."""
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_retiring_the_signing_key_is_refused(runner):
    """The active key cannot be retired before a rotation."""
    kid = run(runner, "keys", "generate")[1].split()[0]
    code, output = run(runner, "keys", "retire", kid)
    assert code == 1 and "rotate to another key before retiring it" in output


def _kids(runner):
    """The kids of `keys list`, oldest first."""
    return [line.split()[0] for line in run(runner, "keys", "list")[1].splitlines()]


def test_retire_refuses_a_key_that_backs_cards_in_force(seeded, runner, session):
    """`keys retire` says how many cards in force the key signed and exits 1; the key stays in the JWKS."""
    in_force = session.scalar(select(func.count()).select_from(Card).where(Card.status != CardStatus.REVOKED))
    old = _kids(runner)[0]
    assert run(runner, "keys", "rotate")[0] == 0
    code, output = run(runner, "keys", "retire", old)
    assert code == 1 and f"signed by key {old}: {in_force}." in output and len(output.splitlines()) == 1
    assert re.search(rf"{old}\s+verify only", run(runner, "keys", "list")[1])


def test_retire_force_retires_and_warns(seeded, runner, app):
    """With --force the key is retired, a warning on stderr counts the stranded cards, and its PEM moves out."""
    old = _kids(runner)[0]
    runner.invoke(args=["keys", "rotate"])
    result = runner.invoke(args=["keys", "retire", old, "--force"])
    assert result.exit_code == 0 and result.stdout == f"{old} retired\n"
    assert "now get the verdict unknown_key" in result.stderr
    keys_dir = Path(app.config["KEYS_DIR"])
    assert not (keys_dir / f"{old}.pem").exists() and (keys_dir / "retired" / f"{old}.pem").exists()


def test_the_rotation_procedure_retires_the_old_key_without_force(seeded, runner, session, app):
    """generate, rotate --to, cards reissue --key OLD, keys retire OLD: every card in force still verifies."""
    old = _kids(runner)[0]
    new = run(runner, "keys", "generate")[1].split()[0]
    assert run(runner, "keys", "rotate", "--to", new)[0] == 0
    result = runner.invoke(args=["cards", "reissue", "--key", old])
    assert result.exit_code == 0, result.output
    assert f"re-signing {old}" in result.stderr and result.stdout.endswith(f"cards re-signed with key {new}\n")
    assert run(runner, "keys", "retire", old) == (0, f"{old} retired\n")
    keys = load_keyring(session, app.config["KEYS_DIR"]).verifying_keys
    in_force = session.scalars(select(Card).where(Card.status != CardStatus.REVOKED)).all()
    assert in_force and all(verify_card_token(c.token, keys).number == c.number for c in in_force)


def test_rotate_to_the_signing_key_is_refused(runner):
    """`keys rotate --to` the key that already signs says so and exits 1."""
    kid = run(runner, "keys", "generate")[1].split()[0]
    assert run(runner, "keys", "rotate", "--to", kid) == (
        1,
        f"Error: Key {kid} already signs new cards: there is nothing to rotate.\n",
    )


def test_rotating_to_a_key_published_just_now_warns(runner, app):
    """A key younger than the JWKS max-age: exit 0, a warning on stderr naming the cache lifetime."""
    run(runner, "keys", "generate")
    new = run(runner, "keys", "generate")[1].split()[0]
    result = runner.invoke(args=["keys", "rotate", "--to", new])
    assert result.exit_code == 0 and result.stdout == f"{new} signing\n"
    cache_lifetime = app.extensions["settings"].TRUST_MAX_AGE_SECONDS
    assert f"Warning: key {new} was published" in result.stderr and f"{cache_lifetime} s" in result.stderr


def test_rotating_to_a_key_published_long_enough_ago_does_not_warn(runner, app, session):
    """A key published longer ago than the JWKS max-age is rotated to without a warning."""
    run(runner, "keys", "generate")
    new = run(runner, "keys", "generate")[1].split()[0]
    session.get(SigningKey, new).created_at = utcnow() - timedelta(
        seconds=app.extensions["settings"].TRUST_MAX_AGE_SECONDS + 1
    )
    session.commit()
    result = runner.invoke(args=["keys", "rotate", "--to", new])
    assert result.exit_code == 0 and result.stderr == ""


def test_keys_list_labels_every_state(runner):
    """`keys list` reads published, signing, verify only and retired."""
    first = run(runner, "keys", "generate")[1].split()[0]
    second = run(runner, "keys", "generate")[1].split()[0]
    third = run(runner, "keys", "generate")[1].split()[0]
    assert re.search(rf"^{re.escape(third)}  published ", run(runner, "keys", "list")[1], re.MULTILINE)
    run(runner, "keys", "rotate", "--to", second)
    run(runner, "keys", "retire", third)
    listing = run(runner, "keys", "list")[1]
    for kid, label in [(first, "verify only"), (second, "signing"), (third, "retired")]:
        assert re.search(rf"^{re.escape(kid)}  {label} ", listing, re.MULTILINE), listing

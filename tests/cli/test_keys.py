"""`keys ...`: generate, list, rotate, retire, with one-line refusals."""

import re
import stat
from pathlib import Path

import pytest

from tests.cli.conftest import run


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

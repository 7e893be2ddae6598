"""`partners list` and `partners api-key create|revoke`: the organisations, and keys printed once."""

import pytest
from sqlalchemy import select

from tests.cli.conftest import run
from webapp.models import ApiKey, AuditEvent
from webapp.services.partners.api_keys import authenticate_api_key


def test_partners_list_prints_one_organisation_a_line(seeded, runner):
    """Slug, kind and name of each demo partner, one a line."""
    code, output = run(runner, "partners", "list")
    assert code == 0
    lines = output.strip().splitlines()
    assert len(lines) == 4
    assert lines[0].split()[:2] == ["barid-colis", "transporter"]
    assert any(line.split()[:2] == ["credit-artisan", "lender"] for line in lines)


def test_api_key_create_prints_the_key_alone_on_its_last_line(seeded, runner, session):
    """The new key works, has the scopes asked for, and is the whole last line (for scripts)."""
    code, output = run(runner, "partners", "api-key", "create", "credit-artisan", "--scope", "verify, eligibility")
    assert code == 0, output
    plaintext = output.strip().splitlines()[-1]
    api_key = authenticate_api_key(session, plaintext)
    assert api_key.organisation.slug == "credit-artisan"
    assert api_key.scope_set == {"verify", "eligibility"}
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "api_key.create")).organisation_id is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-partner"], "No such record."),
        (["barid-colis", "--scope", "verify,admin"], "Unknown API key scope admin"),
        (["barid-colis", "--scope", " , "], "at least one scope"),
        (["barid-colis", "--expires", "2001-01-01"], "must be in the future"),
    ],
)
def test_api_key_create_refusals_are_one_line(seeded, runner, session, args, message):
    """A bad slug, scope or expiry is refused in one line, exit status 1, and no key is written."""
    code, output = run(runner, "partners", "api-key", "create", *args)
    assert code == 1 and message in output and "Traceback" not in output
    assert session.scalars(select(ApiKey)).all() == []


def test_api_key_revoke(seeded, runner, session):
    """A revoked key no longer authenticates."""
    plaintext = run(runner, "partners", "api-key", "create", "barid-colis")[1].strip().splitlines()[-1]
    prefix = plaintext.split("_")[1]
    assert run(runner, "partners", "api-key", "revoke", prefix)[0] == 0
    session.expire_all()
    assert session.scalar(select(ApiKey.revoked_at)) is not None


def test_api_key_create_help_says_which_scope_reads_what(runner):
    """Rule A5 of docs/card-token.md: the help names the verify scope for the offers' eligibility lists."""
    code, output = run(runner, "partners", "api-key", "create", "--help")
    assert code == 0
    text = " ".join(output.split())
    assert "verify (POST /api/v1/verify, GET /api/v1/bundle and GET /offers/<id>/eligibility" in text
    assert "eligibility (GET /api/v1/eligibility" in text

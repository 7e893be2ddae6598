"""Commands that create known-password accounts are refused in production; dev hints run as printed."""

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from webapp.cli.operations import flask_command
from webapp.services.trust.signing_keys import write_private_key
from webapp.settings import PROJECT_ROOT


@pytest.fixture
def production_runner(make_app, app_config):
    """A CLI runner on an app configured for production (with a readable key, so it starts)."""
    write_private_key(Path(app_config["KEYS_DIR"]), "abc123", ec.generate_private_key(ec.SECP256R1()))
    app = make_app(
        CARTE_ENV="production",
        PUBLIC_BASE_URL="https://carte.artisanat.ma",
        SESSION_COOKIE_SECURE=True,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
        JOB_QUEUE_URL="redis://127.0.0.1:6379/1",
    )
    return app.test_cli_runner()


@pytest.mark.parametrize("args", [["setup"], ["setup", "--no-demo"], ["demo", "seed", "--artisans", "5"]])
def test_demo_commands_are_refused_in_production(production_runner, args):
    """`setup` and `demo seed` exit 1 in production with a one-line reason, creating nothing."""
    result = production_runner.invoke(args=args)
    assert result.exit_code == 1
    assert "refused when CARTE_ENV=production" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("argv0", "cwd_relative", "expected"),
    [
        (".venv/bin/flask", True, ".venv/bin/flask --app wsgi"),
        ("flask", False, "flask --app wsgi"),
        ("/usr/bin/python3", False, "flask --app wsgi"),
    ],
)
def test_printed_hints_name_the_flask_that_runs(monkeypatch, tmp_path, argv0, cwd_relative, expected):
    """The CLI's hints use the executable the operator ran (`.venv/bin/flask` under make run)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", [str(tmp_path / argv0) if cwd_relative else argv0])
    assert flask_command() == expected


def test_make_run_on_another_port_serves_and_prints_for_that_port():
    """`PORT=8001 make run` binds gunicorn (started by scripts/serve.py) to 8001 and prints QR texts
    for http://127.0.0.1:8001."""
    dry_run = subprocess.run(
        ["make", "-n", "run", "PORT=8001"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout
    setup_line = next(line for line in dry_run.splitlines() if "flask --app wsgi setup" in line)
    serve_line = next(line for line in dry_run.splitlines() if "scripts/serve.py" in line)
    for line in (setup_line, serve_line):
        assert "PUBLIC_BASE_URL=http://127.0.0.1:8001" in line and "GUNICORN_BIND=127.0.0.1:8001" in line

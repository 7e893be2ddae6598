"""Start-up under gunicorn: a refused configuration stops the server at once with its reason; a
missing signing key does not (it is said at start, and the server verifies)."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from webapp.settings import PROJECT_ROOT

GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def production_env(tmp_path):
    """A production environment that would start, but for the setting each test breaks."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("CARTE_", "GUNICORN_"))}
    env.update(
        CARTE_ENV="production",
        SECRET_KEY="s" * 48,
        PUBLIC_BASE_URL="https://carte.artisanat.ma",
        SESSION_COOKIE_SECURE="true",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
        JOB_QUEUE_URL="redis://127.0.0.1:6379/1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'carte.sqlite3'}",
        KEYS_DIR=str(tmp_path / "keys"),  # empty: no signing key
        GUNICORN_BIND=f"127.0.0.1:{_free_port()}",
        GUNICORN_ACCESSLOG="",
    )
    return env


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ({"SESSION_COOKIE_SECURE": "false"}, "SESSION_COOKIE_SECURE must be true"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "RATELIMIT_STORAGE_URI must be a Redis URL"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be at least 32 characters"),
    ],
)
def test_gunicorn_exits_at_once_on_a_refused_configuration(production_env, broken, reason):
    """gunicorn exits non-zero within seconds, printing the one-line reason, and starts no worker loop."""
    started = time.monotonic()
    result = subprocess.run(
        [str(GUNICORN), "-c", "config/gunicorn.conf.py", "wsgi:app"],
        cwd=PROJECT_ROOT,
        env={**production_env, **broken},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"Carte Artisan cannot start: {reason}" in result.stderr
    assert "Booting worker" not in result.stderr and "Traceback" not in result.stderr
    assert time.monotonic() - started < 30


def test_gunicorn_starts_without_a_signing_key_and_logs_it(production_env):
    """No key in KEYS_DIR (a lost or unreadable file): the server starts and answers, and its log says
    at once, as an error, that nothing can be signed and where it looked. Until issue 14 this
    refused to start; a lost key file must not take the instance down at its next restart."""
    bind = production_env["GUNICORN_BIND"]
    server = subprocess.Popen(
        [str(GUNICORN), "-c", "config/gunicorn.conf.py", "wsgi:app"],
        cwd=PROJECT_ROOT,
        env={**production_env, "GUNICORN_WORKERS": "1"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        answer = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://{bind}/healthz", timeout=5) as response:
                    answer = response.status
                    break
            except OSError:
                time.sleep(0.2)
        assert answer == 200
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert "Carte Artisan starts without a signing key: no readable signing key in" in stderr
    assert production_env["KEYS_DIR"] in stderr

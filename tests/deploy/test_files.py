"""The recipe's files themselves, without starting anything: the nginx template renders whole and
keeps the app's headers on the static files it serves; the systemd units run migrations first."""

from __future__ import annotations

import configparser
import re
import runpy
import sys

import pytest

from webapp.security import SECURITY_HEADERS, UPLOAD_OVERHEAD_BYTES
from webapp.settings import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "deploy"))
from render import NGINX_TEMPLATE, main, render, render_nginx
from wait_alive import main as wait_alive

SYSTEMD = PROJECT_ROOT / "deploy" / "systemd"
SITE = {
    "server_name": "carte.artisanat.ma",
    "certificate": "/etc/ssl/carte/fullchain.pem",
    "certificate_key": "/etc/ssl/carte/privkey.pem",
    "app_root": "/srv/carte/app/",
    "upstreams": ["127.0.0.1:8001", "127.0.0.1:8002"],
}


def _locations(config: str) -> dict[str, str]:
    """Each `location ... { ... }` block's body, by its path (no nested blocks in the template)."""
    return {path: body for path, body in re.findall(r"location (?:= )?(\S+) \{(.*?)\n    \}", config, re.DOTALL)}


def test_the_site_renders_with_every_placeholder_filled():
    """Upstreams a line each, the redirect to the canonical name, no placeholder left."""
    config = render_nginx(**SITE)
    assert "{{" not in config
    assert "    server 127.0.0.1:8001 max_fails=1 fail_timeout=10s;\n    server 127.0.0.1:8002" in config
    assert "return 301 https://carte.artisanat.ma$request_uri;" in config
    assert "root /srv/carte/app;" in config


def test_a_port_other_than_443_is_kept_in_the_redirect():
    config = render_nginx(**SITE, https_port=18443, http_port=18080)
    assert "return 301 https://carte.artisanat.ma:18443$request_uri;" in config


def test_a_placeholder_without_a_value_is_refused():
    """Never a half-filled file."""
    with pytest.raises(ValueError, match="NEW_THING"):
        render("listen {{ HTTPS_PORT }}; {{ NEW_THING }}", {"HTTPS_PORT": "443"})


def test_the_renderer_needs_an_upstream(capsys):
    arguments = ["nginx", "--server-name", "x", "--certificate", "c", "--certificate-key", "k", "--app-root", "/a"]
    assert main(arguments) == 2
    assert "--upstream" in capsys.readouterr().err


def test_the_import_route_takes_the_apps_upload_limit_and_nothing_else_does():
    """The register import's body limit is REGISTER_IMPORT_MAX_BYTES plus the form around the file,
    as the app computes it; every other route stays small (above the app's 8 KB, so the app's own
    413 answers first)."""
    locations = _locations(render_nginx(**SITE))
    defaults = runpy.run_path(str(PROJECT_ROOT / "config" / "defaults.py"))
    limit = defaults["REGISTER_IMPORT_MAX_BYTES"] + UPLOAD_OVERHEAD_BYTES
    assert f"client_max_body_size {limit};" in locations["/office/imports"]
    server_wide = re.findall(r"^    client_max_body_size (\S+);", NGINX_TEMPLATE.read_text(), re.MULTILINE)
    assert server_wide == ["64k"]
    assert defaults["MAX_CONTENT_LENGTH"] < 64 * 1024


@pytest.mark.parametrize("path", ["/static/", "/static/vendor/"])
def test_static_files_carry_the_apps_security_headers(path):
    """What nginx serves itself gets every header webapp/security.py sets on the app's answers."""
    body = _locations(render_nginx(**SITE))[path]
    added = dict(re.findall(r'add_header (\S+) "([^"]*)" always;', body))
    assert added.pop("Strict-Transport-Security") == "max-age=31536000"
    assert added == dict(SECURITY_HEADERS)


def test_forwarded_headers_are_set_by_nginx_never_passed_through():
    """TRUSTED_PROXY_COUNT=1 trusts the last X-Forwarded-For address and the forwarded proto and
    host: nginx must write each of them itself."""
    template = NGINX_TEMPLATE.read_text()
    for header, value in [
        ("X-Forwarded-For", "$proxy_add_x_forwarded_for"),
        ("X-Forwarded-Proto", "$scheme"),
        ("X-Forwarded-Host", "$http_host"),
        ("Host", "$http_host"),
    ]:
        assert f"proxy_set_header {header} {value};" in template
    assert "proxy_request_buffering on;" in template


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(SYSTEMD / name)
    return parser


def test_web_instances_start_only_after_the_migration():
    """New code never serves an old schema: each instance requires the one-shot `db upgrade`."""
    web, migrate = _unit("carte-web@.service"), _unit("carte-migrate.service")
    assert "carte-migrate.service" in web["Unit"]["Requires"].split()
    assert "carte-migrate.service" in web["Unit"]["After"].split()
    assert migrate["Service"]["Type"] == "oneshot"
    assert migrate["Service"]["ExecStart"].endswith("flask --app wsgi db upgrade")
    assert web["Service"]["ExecStart"].startswith("/srv/carte/app/.venv/bin/gunicorn -c config/gunicorn.conf.py ")
    assert web["Service"]["ExecStart"].endswith(" wsgi:app")
    assert web["Service"]["Environment"] == "GUNICORN_BIND=127.0.0.1:%i"
    assert web["Service"]["Restart"] == "on-failure"
    for unit in (web, migrate):
        assert unit["Service"]["User"] == "carte"
        assert unit["Service"]["EnvironmentFile"] == "/etc/carte/carte.env"


def test_the_example_environment_file_holds_no_secret_and_names_real_settings():
    """Every name in carte.env.example is a setting the app (or gunicorn's config) reads."""
    from webapp.settings import SETTING_NAMES

    lines = [line for line in (SYSTEMD / "carte.env.example").read_text().splitlines() if line and line[0] != "#"]
    values = dict(line.split("=", 1) for line in lines)
    assert set(values) - set(SETTING_NAMES) == {"GUNICORN_WORKERS"}
    assert values["SECRET_KEY"] == "CHANGE-ME"
    assert values["CARTE_ENV"] == "production" and values["TRUSTED_PROXY_COUNT"] == "1"


def test_readiness_is_answered_through_nginx_to_this_host_only():
    """/readyz says which store fails: nginx lets only the host itself (monitoring) read it."""
    readiness = _locations(render_nginx(**SITE))["/readyz"]
    assert "allow 127.0.0.1;" in readiness and "allow ::1;" in readiness
    assert "deny all;" in readiness and readiness.index("deny all;") < readiness.index("proxy_pass")


def test_an_instance_counts_as_started_once_it_answers_its_liveness_check():
    """systemd waits for the instance's /healthz (its own port) before the unit is started."""
    post = _unit("carte-web@.service")["Service"]["ExecStartPost"]
    assert post.startswith("/srv/carte/app/.venv/bin/python deploy/wait_alive.py http://127.0.0.1:%i/healthz ")


def test_waiting_for_an_address_that_never_answers_gives_up_with_exit_1(capsys):
    """deploy/wait_alive.py: a closed port is reported, not waited on forever."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    assert wait_alive([f"http://127.0.0.1:{closed_port}/healthz", "--seconds", "0.6"]) == 1
    assert "did not answer 200" in capsys.readouterr().err


def test_waiting_for_a_server_that_answers_returns_0():
    """deploy/wait_alive.py: a server answering 200 ends the wait at once."""
    import http.server
    import threading

    class Alive(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Alive)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert wait_alive([f"http://127.0.0.1:{server.server_port}/healthz", "--seconds", "10"]) == 0
    finally:
        server.shutdown()
        server.server_close()


def test_the_photo_upload_takes_the_apps_photo_limit_on_its_route_only():
    """The holder's photo form (/office/artisans/ID/photo) may send the app's photo body limit plus
    the form (so the app's own message answers a photo slightly too large); its image and every
    other route stay small."""
    from webapp.services.register.photos import UPLOAD_BODY_LIMIT

    config = render_nginx(**SITE)
    found = re.search(r"location ~ (\S+) \{(.*?)\n    \}", config, re.DOTALL)
    assert found is not None
    pattern, body = found.groups()
    assert f"client_max_body_size {UPLOAD_BODY_LIMIT + 2 * UPLOAD_OVERHEAD_BYTES};" in body
    assert re.search(pattern, "/office/artisans/12/photo")
    for other in ("/office/artisans/12/photo.jpg", "/office/artisans/12/photo/remove", "/office/artisans/x/photo"):
        assert not re.search(pattern, other)


def test_card_checks_are_purged_daily_by_a_timer():
    """The retention of card checks is enforced by a daily timer starting the purge command."""
    timer, service = _unit("carte-purge-checks.timer"), _unit("carte-purge-checks.service")
    assert timer["Timer"]["OnCalendar"].startswith("*-*-* ")
    assert timer["Timer"]["Persistent"] == "yes"
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["ExecStart"].endswith("flask --app wsgi cards purge-checks")
    assert (service["Service"]["User"], service["Service"]["EnvironmentFile"]) == ("carte", "/etc/carte/carte.env")

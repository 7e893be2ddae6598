"""The deployment recipe (deploy/), started as an operator starts it and driven through nginx.

nginx (Debian's) runs the site file rendered from deploy/nginx/carte.conf, with a self-signed
certificate, in front of two gunicorn instances in production mode (config/gunicorn.conf.py,
TRUSTED_PROXY_COUNT=1) on a fresh PostgreSQL database (`carte_smoke_<random>`, dropped at the end)
and the shared Redis (a key prefix of its own, its keys deleted at the end). The data is prepared as docs/operations.md
says: `db upgrade`, `keys generate`, then demo data (in development mode: `demo seed` is refused in
production). Everything started here is stopped by its PID, always.

Runs on the PostgreSQL pass (TEST_DATABASE_URL); skipped without nginx, Chromium or Redis, except
in CI (CI=true or REQUIRE_BROWSER=1), where their absence fails.
"""

from __future__ import annotations

import gzip
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.browser.conftest import CHROMIUM
from tests.fixtures.jobs import WorkerProcess, wait_for
from tests.fixtures.production import (
    Gunicorn,
    free_port,
    production_environment,
    self_signed_certificate,
    shared_redis,
    wait_until_answering,
)
from tests.fixtures.support import TEST_DATABASE_URL, csrf_token_from
from webapp.security import SECURITY_HEADERS
from webapp.settings import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "deploy"))
from render import render_nginx

REQUIRED = os.environ.get("REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true"
DEMO_PASSWORD = "demo-artisan-2026"  # webapp/services/demo.py: the demo logins' published password
OFFICER = "officer.fes@demo.carte-artisan.ma"  # region 03
WORKERS_PER_INSTANCE = 2
JOB_WORKERS = 2
# Hang detection, not a timing assertion: a request that has not answered in this long is stuck.
HANG_SECONDS = 20
TLS = ssl._create_unverified_context()  # our own self-signed certificate


def _missing() -> list[str]:
    missing = [name for name in ("nginx",) if shutil.which(name) is None and not Path(f"/usr/sbin/{name}").exists()]
    if not (CHROMIUM.is_file() or shutil.which(str(CHROMIUM))):
        missing.append(f"chromium ({CHROMIUM})")
    return missing


def _nginx() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass
class Recipe:
    """What the smoke test drives: nginx's HTTPS and HTTP addresses, each instance's own address,
    and the demo data it needs."""

    base_url: str
    http_url: str
    instances: list[str]
    database_url: str
    api_key: str
    card_number: str
    qr_text: str
    activation: tuple[str, str, str]  # the demo artisan's card number, activation code, birth date
    logs: dict[str, Path] = field(default_factory=dict)
    gunicorns: list[Gunicorn] = field(default_factory=list)


def run_command(environment: dict[str, str], *arguments: str) -> str:
    """`flask --app wsgi ...` as an operator runs it; its output, or a failure with it."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *arguments],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"flask {' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def nginx_main_config(prefix: Path, site: Path) -> str:
    """A minimal nginx.conf around the site file, everything under a temporary prefix (no root
    paths, no system service): what Debian's /etc/nginx/nginx.conf provides in production."""
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    temp = prefix / "temp"
    return f"""
{user}
worker_processes 2;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {site};
}}
"""


class Nginx:
    """nginx in the foreground (daemon off), so its master is our child; stopped by its PID."""

    def __init__(self, prefix: Path, config: Path) -> None:
        self.prefix = prefix
        arguments = ["-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(config)]
        checked = subprocess.run([_nginx(), "-t", *arguments], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, f"nginx -t refused the rendered config:\n{checked.stderr}"
        self.log = (prefix / "nginx.out").open("wb")
        self.process = subprocess.Popen(
            [_nginx(), *arguments, "-g", f"daemon off; pid {prefix / 'nginx.pid'};"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log.close()


def wait_until_answering_in_log(log: Path, line: str, worker: WorkerProcess) -> None:
    """A job worker has started once its log says so; one that exits says why."""

    def started() -> bool:
        assert worker.process.poll() is None, f"the job worker exited:\n{log.read_text(errors='replace')[-3000:]}"
        return line in log.read_text(errors="replace")

    wait_for(started, seconds=60, what=f"{log.name}: {line}")


def _create_database() -> tuple[str, Any]:
    """A fresh database on the test server; (its URL, the admin engine that drops it)."""
    assert TEST_DATABASE_URL is not None
    name = f"carte_smoke_{secrets.token_hex(6)}"
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False), admin


def _drop_database(admin: Any, url: str) -> None:
    name = make_url(url).database
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _demo_card(seed_output: str) -> tuple[str, str]:
    """An active demo card's number and QR text, from what `demo seed` printed."""
    lines = seed_output.splitlines()
    for index, line in enumerate(lines):
        match = re.fullmatch(r"\s+(\S+)\s+active", line)
        if match and index + 1 < len(lines):
            return match.group(1), lines[index + 1].strip()
    raise AssertionError(f"no active card in the demo summary:\n{seed_output}")


def _demo_activation(seed_output: str) -> tuple[str, str, str]:
    """The card number, activation code and birth date that `demo seed` printed for the card app."""
    found = re.search(r"card number (\S+)\s+activation code (\S+)\s+birth date (\S+)", seed_output)
    assert found is not None, f"no activation code in the demo summary:\n{seed_output}"
    number, code, birth_date = found.groups()
    return number, code, birth_date


@pytest.fixture(scope="module")
def recipe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recipe]:
    if not (TEST_DATABASE_URL or "").startswith("postgresql"):
        pytest.skip("the recipe's smoke test runs on PostgreSQL (set TEST_DATABASE_URL): .ci/run's second pass")
    missing = _missing()
    redis = shared_redis()
    if redis is None:
        missing.append("Redis (TEST_REDIS_URL or 127.0.0.1:6379)")
    if missing:
        message = f"the deployment smoke test needs {', '.join(missing)}"
        if REQUIRED:
            pytest.fail(f"in CI {message}", pytrace=False)
        pytest.skip(message)
    assert redis is not None

    work = tmp_path_factory.mktemp("recipe")
    https_port, http_port = free_port(), free_port()
    instance_ports = [free_port(), free_port()]
    base_url = f"https://127.0.0.1:{https_port}"
    database_url, admin = _create_database()
    started: list[Any] = []
    try:
        environment = production_environment(
            database_url=database_url,
            keys_dir=work / "keys",
            public_base_url=base_url,
            redis=redis,
            work_dir=work,
            TRUSTED_PROXY_COUNT="1",
            GUNICORN_WORKERS=str(WORKERS_PER_INSTANCE),
            # Small parts, so that a print batch of the demo region spreads over both job workers.
            PRINT_BATCH_PART_SIZE="2",
        )
        # The operator's steps (docs/operations.md, "Deploying"); the demo data needs development.
        run_command(environment, "db", "upgrade")
        run_command(environment, "keys", "generate")
        development = {**environment, "CARTE_ENV": "development", "RATELIMIT_STORAGE_URI": "memory://"}
        seed_output = run_command(development, "demo", "seed", "--artisans", "24")
        number, qr = _demo_card(seed_output)
        api_key = run_command(environment, "partners", "api-key", "create", "barid-colis").strip().splitlines()[-1]

        logs: dict[str, Path] = {}
        for index, port in enumerate(instance_ports):
            name = f"instance-{'AB'[index]}"
            logs[name] = work / f"{name}.log"
            # Each its own control socket, as the systemd unit gives them (the default is one per user).
            instance = Gunicorn(
                name,
                {**environment, "GUNICORN_BIND": f"127.0.0.1:{port}"},
                logs[name],
                "--control-socket",
                str(work / f"{name}.ctl"),
            )
            started.append(instance)
        for instance, port in zip(started, instance_ports, strict=True):
            instance.wait_until_ready(f"http://127.0.0.1:{port}/healthz")
        # Two job workers (deploy/systemd/carte-worker@.service) on the same database and Redis.
        for index in range(JOB_WORKERS):
            logs[f"worker-{index}"] = work / f"worker-{index}.log"
            worker = WorkerProcess(environment, logs[f"worker-{index}"])
            started.append(worker)
        for index in range(JOB_WORKERS):
            wait_until_answering_in_log(logs[f"worker-{index}"], "Job worker on", started[-JOB_WORKERS + index])

        cert, key = self_signed_certificate(work / "tls")
        prefix = work / "nginx"
        (prefix / "temp").mkdir(parents=True)
        site = prefix / "carte.conf"
        site.write_text(
            render_nginx(
                server_name="127.0.0.1",
                certificate=str(cert),
                certificate_key=str(key),
                app_root=str(PROJECT_ROOT),
                upstreams=[f"127.0.0.1:{port}" for port in instance_ports],
                https_port=https_port,
                http_port=http_port,
            )
        )
        main_config = prefix / "nginx.conf"
        main_config.write_text(nginx_main_config(prefix, site))
        nginx = Nginx(prefix, main_config)
        started.append(nginx)
        logs["nginx"] = prefix / "error.log"
        error_log = prefix / "error.log"
        wait_until_answering(
            f"{base_url}/healthz", "nginx", nginx.process, lambda: error_log.read_text(errors="replace")[-3000:]
        )
        yield Recipe(
            base_url=base_url,
            http_url=f"http://127.0.0.1:{http_port}",
            instances=[f"http://127.0.0.1:{port}" for port in instance_ports],
            database_url=database_url,
            api_key=api_key,
            card_number=number,
            qr_text=qr,
            activation=_demo_activation(seed_output),
            logs=logs,
            gunicorns=[process for process in started if isinstance(process, Gunicorn)],
        )
    finally:
        for process in reversed(started):
            process.stop()
        _drop_database(admin, database_url)
        redis.forget()


def fetch(
    url: str, *, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request, no redirect followed: (status, headers with lower-case names, raw body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=TLS))
    try:
        with opener.open(request, timeout=HANG_SECONDS) as response:
            return response.status, _joined(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, _joined(error.headers), error.read()


def _joined(headers: Any) -> dict[str, str]:
    """Header names in lower case; a header sent twice (Vary from the app and from nginx) joined."""
    joined: dict[str, str] = {}
    for name, value in headers.items():
        joined[name.lower()] = f"{joined[name.lower()]}, {value}" if name.lower() in joined else value
    return joined


def access_logs(recipe: Recipe) -> list[str]:
    return [recipe.logs[name].read_text(errors="replace") for name in ("instance-A", "instance-B")]


def settled_logs(recipe: Recipe) -> list[str]:
    """Each instance's access log once it holds every request made so far: gunicorn writes a line
    after its answer is sent, so a marker request is asked of each until its line shows."""
    marker = secrets.token_hex(6)
    logs = []
    for instance, name in zip(recipe.instances, ("instance-A", "instance-B"), strict=True):
        assert fetch(f"{instance}/healthz?marker={marker}")[0] == 200
        deadline = time.monotonic() + HANG_SECONDS
        while marker not in (log := recipe.logs[name].read_text(errors="replace")):
            assert time.monotonic() < deadline, f"{name} never logged its marker request"
            time.sleep(0.05)
        logs.append(log)
    return logs


def test_plain_http_is_redirected_to_https(recipe: Recipe) -> None:
    """Any page asked over HTTP is sent, path and query kept, to the same page over HTTPS."""
    status, headers, _body = fetch(f"{recipe.http_url}/office/artisans?page=2")
    assert status == 301
    assert headers["location"] == f"{recipe.base_url}/office/artisans?page=2"


def test_another_host_name_is_turned_away(recipe: Recipe) -> None:
    """Only the site's own name reaches the app (the default server closes the connection)."""
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        fetch(f"{recipe.base_url}/healthz", headers={"Host": "elsewhere.example"})


def test_an_officer_signs_in_and_corrects_an_artisan_through_nginx(recipe: Recipe, https_page: Any) -> None:
    """Chromium through nginx: sign in as the Fès officer, open an artisan, save a new phone."""
    page = https_page
    page.goto(f"{recipe.base_url}/login?next=/office/artisans")
    page.fill("#email", OFFICER)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_response(lambda response: response.request.method == "POST") as signed_in:
        page.click("main button[type=submit]")
    assert signed_in.value.status == 302
    expect(page).to_have_url(f"{recipe.base_url}/office/artisans")

    engine = create_engine(recipe.database_url)
    with engine.connect() as connection:
        artisan_id = connection.scalar(text("SELECT min(id) FROM artisan WHERE region_code = '03'"))
    page.goto(f"{recipe.base_url}/office/artisans/{artisan_id}/edit")
    page.fill("#phone", "06 61 22 33 44")
    with page.expect_response(lambda response: response.request.method == "POST") as saved:
        page.click("main button[type=submit]")
    assert saved.value.status == 302
    expect(page).to_have_url(f"{recipe.base_url}/office/artisans/{artisan_id}")
    expect(page.locator(".flash-success")).to_be_visible()
    with engine.connect() as connection:
        phone = connection.scalar(text("SELECT phone FROM artisan WHERE id = :id"), {"id": artisan_id})
    engine.dispose()
    assert phone == "+212661223344"


def test_a_card_verifies_on_the_public_page_and_the_api(recipe: Recipe, https_page: Any) -> None:
    """The card's QR text opened in Chromium shows "valid"; the verify API says the same."""
    page = https_page
    assert recipe.qr_text.startswith(f"{recipe.base_url}/v#")
    response = page.goto(recipe.qr_text)
    assert response is not None and response.ok
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "valid")

    status, _headers, body = fetch(f"{recipe.base_url}/api/v1/verify", method="POST", body={"qr": recipe.qr_text})
    assert status == 200
    assert json.loads(body)["verdict"] == "valid"


def test_an_artisan_activates_the_card_app_and_its_live_qr_verifies_through_nginx(
    recipe: Recipe, https_page: Any
) -> None:
    """Chromium through nginx over HTTPS: the demo artisan activates with the printed code (the phone
    key made by WebCrypto, which needs a secure context), the card app draws a live QR, and that QR,
    read from the screen, verifies valid and live."""
    import io

    import zxingcpp
    from PIL import Image

    number, code, birth_date = recipe.activation
    page = https_page
    page.goto(f"{recipe.base_url}/card/activate")
    page.fill("input[name=card_number]", number)
    page.fill("input[name=code]", code)
    page.fill("input[name=birth_date]", birth_date)
    page.fill("input[name=password]", "tajine bleu de fes")
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{recipe.base_url}/card/")
    expect(page.locator("[data-qr]")).to_be_visible()
    page.locator("#card-app[data-window]").wait_for(state="attached")  # a window's QR signed and drawn
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(page.locator("[data-qr]").screenshot())))
    assert len(results) == 1, "no QR code read from the card app's screen"
    assert results[0].text.startswith(f"{recipe.base_url}/v#")

    status, _headers, body = fetch(f"{recipe.base_url}/api/v1/verify", method="POST", body={"qr": results[0].text})
    answer = json.loads(body)
    assert (status, answer["verdict"], answer.get("presentation")) == (200, "valid", "live"), answer


def test_a_redemption_recorded_on_one_instance_is_read_on_the_other(recipe: Recipe) -> None:
    """Instance A records a redemption; instance B shows the offer's remaining count down by one
    and replays the same Idempotency-Key with the same redemption."""
    instance_a, instance_b = recipe.instances
    key = {"Authorization": f"Bearer {recipe.api_key}"}
    status, _headers, body = fetch(f"{instance_b}/api/v1/eligibility?card={recipe.card_number}", headers=key)
    assert status == 200, body
    offer = next(offer for offer in json.loads(body)["offers"] if offer["remaining"] is not None)
    before = offer["remaining"]

    redemption = {"card": recipe.card_number, "offer": offer["id"], "fields": {"weight_kg": 2.5, "destination": "FR"}}
    idempotency = {**key, "Idempotency-Key": secrets.token_hex(8)}
    status, _headers, body = fetch(
        f"{instance_a}/api/v1/redemptions", method="POST", body=redemption, headers=idempotency
    )
    assert status == 201, body
    recorded = json.loads(body)

    status, _headers, body = fetch(f"{instance_b}/api/v1/eligibility?card={recipe.card_number}", headers=key)
    after = next(item for item in json.loads(body)["offers"] if item["id"] == offer["id"])["remaining"]
    assert (before, after) == (before, before - 1)
    status, headers, body = fetch(
        f"{instance_b}/api/v1/redemptions", method="POST", body=redemption, headers=idempotency
    )
    assert (status, headers.get("idempotent-replayed")) == (201, "true")
    assert json.loads(body)["id"] == recorded["id"]


def test_trust_material_comes_through_nginx_cacheable_and_compressed(recipe: Recipe) -> None:
    """JWKS, status list and bundle keep the app's caching headers through nginx; the larger ones
    are gzipped, and a bundle already held answers 304 to its (weakened by gzip) ETag."""
    status, headers, body = fetch(f"{recipe.base_url}/.well-known/jwks.json", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert "max-age=300" in headers["cache-control"] and "public" in headers["cache-control"]
    keys = json.loads(gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body)["keys"]
    assert keys and all(key["kty"] == "EC" for key in keys)

    status, headers, body = fetch(f"{recipe.base_url}/statuslists/1", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert "max-age=300" in headers["cache-control"] and headers.get("etag")

    status, headers, body = fetch(f"{recipe.base_url}/api/v1/bundle", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("content-encoding") == "gzip" and "accept-encoding" in headers.get("vary", "").lower()
    assert "no-cache" in headers["cache-control"] and headers.get("etag")
    assert gzip.decompress(body).count(b".") == 2  # a compact JWS, whole
    status, _headers, _body = fetch(
        f"{recipe.base_url}/api/v1/bundle", headers={"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]}
    )
    assert status == 304


def test_each_instance_and_nginx_say_they_are_ready(recipe: Recipe) -> None:
    """/readyz on each instance and through nginx (from this host): 200, the database, Redis and
    the keys checked, never cached."""
    for url in [*recipe.instances, recipe.base_url]:
        status, headers, body = fetch(f"{url}/readyz")
        answer = json.loads(body)
        assert status == 200 and answer["ready"] is True, answer
        assert {"database", "keys"} <= set(answer["checks"]) and "no-store" in headers["cache-control"]


def test_static_files_are_served_by_nginx_with_long_lifetimes_and_the_app_headers(recipe: Recipe) -> None:
    """A vendored file and one of the app's own come from nginx (not a gunicorn), cached a week and
    an hour, gzipped, with every security header the app sets."""
    expected_headers = {name.lower(): value for name, value in SECURITY_HEADERS}
    for path, max_age in (("/static/vendor/swagger-ui-dist/swagger-ui.css", 604800), ("/static/css/app.css", 3600)):
        status, headers, _body = fetch(f"{recipe.base_url}{path}", headers={"Accept-Encoding": "gzip"})
        assert status == 200
        assert f"max-age={max_age}" in headers["cache-control"]
        assert headers.get("content-encoding") == "gzip"
        assert {name: headers.get(name) for name in expected_headers} == expected_headers
        assert "max-age=31536000" in headers["strict-transport-security"]
    for log in settled_logs(recipe):
        assert "/static/" not in log, "a static file reached a gunicorn"


def test_the_service_worker_still_comes_from_the_app(recipe: Recipe) -> None:
    """/scan/sw.js is the app's (its scope is /scan/), never cached by HTTP, with the app's CSP."""
    status, headers, body = fetch(f"{recipe.base_url}/scan/sw.js")
    assert status == 200
    assert headers["content-type"].startswith("text/javascript")
    assert headers["cache-control"] == "no-cache, max-age=0"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["strict-transport-security"] == "max-age=31536000"  # nginx's, on the app's answers too
    assert b"addEventListener" in body
    deadline = time.monotonic() + HANG_SECONDS  # gunicorn logs a request just after answering it
    while not any("GET /scan/sw.js" in log for log in access_logs(recipe)):
        assert time.monotonic() < deadline, "no gunicorn logged /scan/sw.js"
        time.sleep(0.05)


def _stalled_post(recipe: Recipe) -> ssl.SSLSocket:
    """A POST to nginx whose headers announce 4,000 bytes and whose body stops after 2,000."""
    host, port = recipe.base_url.removeprefix("https://").split(":")
    raw = socket.create_connection((host, int(port)), timeout=HANG_SECONDS)
    stalled = TLS.wrap_socket(raw, server_hostname=host)
    stalled.sendall(
        (
            f"POST /api/v1/verify HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            "Content-Length: 4000\r\n\r\n"
        ).encode()
        + b'{"qr": "'
        + b"x" * 1992
    )
    return stalled


def test_clients_that_stall_mid_body_do_not_hold_the_workers(recipe: Recipe) -> None:
    """More half-sent bodies than there are gunicorn workers (2 instances x 2): nginx holds them,
    and a normal request still answers (without request buffering each would pin a sync worker)."""
    stalled = [_stalled_post(recipe) for _ in range(2 * WORKERS_PER_INSTANCE + 1)]
    try:
        time.sleep(0.5)  # let nginx read what they sent (not a measurement)
        started = time.monotonic()
        status, _headers, body = fetch(f"{recipe.base_url}/api/v1/verify", method="POST", body={"qr": recipe.qr_text})
        print(f"with {len(stalled)} stalled bodies, a verify answered {status} in {time.monotonic() - started:.3f} s")
        assert status == 200 and json.loads(body)["verdict"] == "valid"
        for instance in recipe.instances:  # directly too: every worker is free
            assert fetch(f"{instance}/healthz")[0] == 200
    finally:
        for connection in stalled:
            connection.close()


def _sign_in_officer(recipe: Recipe, page: Any, next_path: str) -> None:
    page.goto(f"{recipe.base_url}/login?next={next_path}")
    page.fill("#email", OFFICER)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_response(lambda response: response.request.method == "POST"):
        page.click("main button[type=submit]")
    expect(page).to_have_url(f"{recipe.base_url}{next_path}")


def _ran_jobs(recipe: Recipe, job_ids: set[int]) -> dict[str, set[int]]:
    """Which of these jobs each job worker ran, from the workers' logs (webapp/services/jobs/runner.py
    logs "job ID (kind, step) started")."""
    ran: dict[str, set[int]] = {}
    for name, path in recipe.logs.items():
        if name.startswith("worker-"):
            started = re.findall(r"job (\d+) \([a-z_]+, [a-z0-9 ]+\) started", path.read_text(errors="replace"))
            ran[name] = {int(job) for job in started} & job_ids
    return ran


def test_an_export_and_a_print_batch_run_on_the_job_workers_through_nginx(recipe: Recipe, https_page: Any) -> None:
    """The Fès officer exports their region and prints their region's cards through nginx: the jobs
    run on the job workers, and the files download whole. (Before the sign-in limit's test below,
    which uses up this address's sign-ins for the minute.)"""
    import csv
    import io

    from pypdf import PdfReader

    page = https_page
    _sign_in_officer(recipe, page, "/office/artisans")
    with page.expect_navigation():
        page.click("button[formaction^='/office/exports/artisans.csv']")
    assert re.search(r"/office/jobs/\d+$", page.url), page.url
    download_link = page.locator("a[href$='/download']")
    expect(download_link).to_be_visible(timeout=60_000)  # the page follows the job until it ends
    exported = page.request.get(f"{recipe.base_url}{download_link.get_attribute('href')}")
    assert exported.status == 200
    rows = list(csv.reader(io.StringIO(exported.body().decode("utf-8-sig"))))
    engine = create_engine(recipe.database_url)
    with engine.connect() as connection:
        region_artisans = connection.scalar(text("SELECT count(*) FROM artisan WHERE region_code = '03'"))
    assert len(rows) == 1 + region_artisans

    page.goto(f"{recipe.base_url}/office/print-batches/new")
    page.select_option("select[name=selection]", "region")
    page.click("main form button[type=submit]")
    with page.expect_navigation():
        page.click("button[name=confirm][value=yes]")
    cards_link = page.locator("a[href$='/cards']")
    expect(cards_link).to_be_visible(timeout=120_000)  # the batch page reloads until its files are ready
    batch_id = int(re.search(r"/print-batches/(\d+)", page.url).group(1))
    with engine.connect() as connection:
        card_count, job_id = connection.execute(
            text("SELECT card_count, job_id FROM print_batch WHERE id = :id"), {"id": batch_id}
        ).one()
        part_ids = set(connection.scalars(text("SELECT id FROM job WHERE parent_id = :id"), {"id": job_id}))
    engine.dispose()
    assert card_count > 0
    cards = page.request.get(f"{recipe.base_url}{cards_link.get_attribute('href')}")
    letters_link, manifest_link = page.locator("a[href$='/letters']"), page.locator("a[href$='/manifest']")
    letters = page.request.get(f"{recipe.base_url}{letters_link.get_attribute('href')}")
    manifest = page.request.get(f"{recipe.base_url}{manifest_link.get_attribute('href')}")
    assert cards.headers["cache-control"] == "no-store"
    assert len(PdfReader(io.BytesIO(cards.body())).pages) == 2 * card_count
    assert len(PdfReader(io.BytesIO(letters.body())).pages) == card_count
    assert len(list(csv.reader(io.StringIO(manifest.body().decode("utf-8-sig"))))) == 1 + card_count
    ran = _ran_jobs(recipe, part_ids | {job_id})
    assert set().union(*ran.values()) == part_ids | {job_id}, ran


def test_a_client_cannot_choose_its_address_with_x_forwarded_for(recipe: Recipe) -> None:
    """TRUSTED_PROXY_COUNT=1 behind this nginx: the sign-in limit (10 a minute) counts the address
    nginx saw, whatever X-Forwarded-For the client sends (each attempt claims another address)."""
    cookies = urllib.request.HTTPCookieProcessor()
    opener = urllib.request.build_opener(cookies, urllib.request.HTTPSHandler(context=TLS))
    with opener.open(f"{recipe.base_url}/login", timeout=HANG_SECONDS) as response:
        token = csrf_token_from(response.read().decode())
    statuses = []
    for attempt in range(11):
        form = urllib.parse.urlencode(
            {"email": f"nobody-{secrets.token_hex(4)}@example.org", "password": "wrong-password-1", "csrf_token": token}
        ).encode()
        request = urllib.request.Request(
            f"{recipe.base_url}/login",
            data=form,
            headers={"Referer": f"{recipe.base_url}/login", "X-Forwarded-For": f"203.0.113.{attempt + 1}"},
        )
        try:
            with opener.open(request, timeout=HANG_SECONDS) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    assert 429 in statuses, statuses


def test_with_one_instance_stopped_nginx_answers_from_the_other(recipe: Recipe) -> None:
    """Instance A stopped (last test of the module): every request through nginx still answers,
    from B, a verification included."""
    recipe.gunicorns[0].stop()
    answers = [fetch(f"{recipe.base_url}/healthz")[0] for _ in range(4)]
    status, _headers, body = fetch(f"{recipe.base_url}/api/v1/verify", method="POST", body={"qr": recipe.qr_text})
    assert answers == [200] * 4
    assert status == 200 and json.loads(body)["verdict"] == "valid"

"""Start-up validation: the app refuses configurations it cannot run safely, with a one-line reason."""

import dataclasses

import pytest

from webapp import create_app
from webapp.settings import ConfigError, build_settings, remember_public_base_url, signing_key_warning


@pytest.fixture
def production(app_config, tmp_path):
    (tmp_path / "keys").mkdir()
    return {
        **app_config,
        "CARTE_ENV": "production",
        "PUBLIC_BASE_URL": "https://carte.artisanat.ma",
        "SECRET_KEY": "s" * 48,
        "SECRET_KEY_FILE": str(tmp_path / "absent"),
        "SESSION_COOKIE_SECURE": True,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
        "JOB_QUEUE_URL": "redis://127.0.0.1:6379/1",
    }


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"SECRET_KEY": ""}, "no secret key"),
        ({"SECRET_KEY": "short"}, "at least 32 characters"),
        ({"PUBLIC_BASE_URL": "http://carte.artisanat.ma"}, "https://"),
        ({"CARTE_ENV": "staging"}, "CARTE_ENV must be one of"),
        ({"SESSION_COOKIE_SECURE": False}, "SESSION_COOKIE_SECURE must be true"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "RATELIMIT_STORAGE_URI must be a Redis URL"),
        ({"JOB_QUEUE_URL": "sqlite:///instance/jobs.sqlite3"}, "JOB_QUEUE_URL must be a Redis URL"),
        ({"JOB_QUEUE_URL": "immediate"}, "JOB_QUEUE_URL must be a Redis URL"),
    ],
)
def test_unsafe_settings_are_refused(production, overrides, reason):
    """Each unsafe setting stops start-up with a reason that names it."""
    with pytest.raises(ConfigError, match=reason):
        create_app({**production, **overrides})


@pytest.mark.parametrize(("max_age", "validity"), [(43201, 86400), (600, 600), (86400, 3600)])
def test_status_list_cache_must_stay_within_half_its_validity(app_config, max_age, validity):
    """Clients may not cache the status list longer than half its validity (it is re-signed then)."""
    overrides = {"STATUS_LIST_MAX_AGE_SECONDS": max_age, "STATUS_LIST_VALIDITY_SECONDS": validity}
    with pytest.raises(ConfigError, match="STATUS_LIST_MAX_AGE_SECONDS must be at most half"):
        create_app({**app_config, **overrides})


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"PASSWORD_MIN_LENGTH": 8}, "PASSWORD_MIN_LENGTH must be between 10 and 128"),
        ({"PASSWORD_MIN_LENGTH": 129}, "PASSWORD_MIN_LENGTH must be between 10 and 128"),
        ({"SIGN_IN_LOCK_AFTER_FAILURES": 0}, "SIGN_IN_LOCK_AFTER_FAILURES and SIGN_IN_LOCK_MINUTES"),
        ({"SIGN_IN_LOCK_MINUTES": 0}, "SIGN_IN_LOCK_AFTER_FAILURES and SIGN_IN_LOCK_MINUTES"),
        ({"SIGN_IN_CLIENT_LOCK_AFTER_FAILURES": 4}, "SIGN_IN_CLIENT_LOCK_AFTER_FAILURES must be at least"),
    ],
    ids=["short-passwords", "long-minimum", "no-failures", "no-delay", "client-before-account"],
)
def test_sign_in_settings_that_cannot_work_are_refused(app_config, overrides, reason):
    """Passwords shorter than the common-password list covers, a lock of nothing, a client locked before
    the account it mistypes: start-up refuses, naming the setting."""
    with pytest.raises(ConfigError, match=reason):
        create_app({**app_config, **overrides})


def test_production_starts_without_a_signing_key_and_says_so(production):
    """No readable private key in KEYS_DIR: production starts all the same (a lost key file must not
    take the instance down at its next restart; issue 14), and the start-up warning says what is wrong.
    This replaces the earlier refusal to start: a changed requirement."""
    assert create_app(production).config["CARTE_ENV"] == "production"
    warning = signing_key_warning(build_settings(production))
    assert warning and "no readable signing key" in warning and production["KEYS_DIR"] in warning


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"DATABASE_CONNECT_TIMEOUT_SECONDS": 0}, "DATABASE_CONNECT_TIMEOUT_SECONDS must be at least 1"),
        ({"DATABASE_STATEMENT_TIMEOUT_SECONDS": 0}, "DATABASE_STATEMENT_TIMEOUT_SECONDS must be at least 1"),
        ({"SQLITE_BUSY_TIMEOUT_SECONDS": 0}, "SQLITE_BUSY_TIMEOUT_SECONDS must be at least 1"),
        ({"REDIS_SOCKET_TIMEOUT_SECONDS": 0}, "REDIS_SOCKET_TIMEOUT_SECONDS must be at least 1"),
        ({"DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS": -1}, "DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS must be 0"),
        ({"REQUEST_DEADLINE_SECONDS": 3}, "REQUEST_DEADLINE_SECONDS must be longer than"),
        ({"REQUEST_LONG_DEADLINE_SECONDS": 2}, "REQUEST_LONG_DEADLINE_SECONDS must be at least"),
    ],
)
def test_timeouts_that_would_wait_forever_or_misfire_are_refused(app_config, overrides, reason):
    """0 is "forever" to libpq and Redis, and a request deadline within the server's statement
    timeout would cut PostgreSQL's own clean refusal short: start-up refuses, naming the setting."""
    with pytest.raises(ConfigError, match=reason):
        create_app({**app_config, **overrides})


def test_production_starts_with_a_readable_key(production):
    """With a key file present, production starts."""
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric import ec

    from webapp.services.trust.signing_keys import write_private_key

    write_private_key(Path(production["KEYS_DIR"]), "abc123", ec.generate_private_key(ec.SECP256R1()))
    assert create_app(production).config["CARTE_ENV"] == "production"


def test_environment_overrides_defaults(monkeypatch, app_config):
    """Settings come from the environment, typed: integers are parsed."""
    monkeypatch.setenv("CARD_VALIDITY_YEARS", "3")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://carte.example.ma/")
    config = {k: v for k, v in app_config.items() if k != "PUBLIC_BASE_URL"}
    app = create_app(config)
    assert app.config["CARD_VALIDITY_YEARS"] == 3
    assert app.config["PUBLIC_BASE_URL"] == "https://carte.example.ma"


@pytest.mark.parametrize(
    ("name", "raw"), [("CARD_VALIDITY_YEARS", "five"), ("TRUSTED_PROXY_COUNT", "1.5"), ("SESSION_COOKIE_SECURE", "si")]
)
def test_a_malformed_setting_is_refused(monkeypatch, app_config, name, raw):
    """A malformed integer or boolean in the environment is a ConfigError naming the setting."""
    monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigError, match=name):
        create_app(app_config)


def test_settings_are_one_typed_frozen_object(app):
    """The app's settings are typed and cannot be changed while it runs."""
    settings = app.extensions["settings"]
    assert isinstance(settings.CARD_VALIDITY_YEARS, int) and isinstance(settings.SESSION_COOKIE_SECURE, bool)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.PUBLIC_BASE_URL = "https://elsewhere.example"
    assert settings.SECRET_KEY not in repr(settings) and app.config["PUBLIC_BASE_URL"] == settings.PUBLIC_BASE_URL


def test_secret_key_can_come_from_a_file(app_config, tmp_path):
    """Without SECRET_KEY, the key file (created by `make run` for development) is used."""
    key_file = tmp_path / "secret_key"
    key_file.write_text("k" * 40)
    app = create_app({**app_config, "SECRET_KEY": None, "SECRET_KEY_FILE": str(key_file)})
    assert app.config["SECRET_KEY"] == "k" * 40


@pytest.mark.parametrize("gateway", ["twilio", "", "Console"])
def test_an_unknown_sms_gateway_is_refused(app_config, gateway):
    """SMS_GATEWAY names one of the gateways built (console only today): anything else stops start-up."""
    with pytest.raises(ConfigError, match="SMS_GATEWAY must be one of console"):
        create_app({**app_config, "SMS_GATEWAY": gateway})


@pytest.mark.parametrize("months", [0, -1, 121])
def test_a_card_check_retention_that_cannot_work_is_refused(app_config, months):
    """No retention (0, negative) or one of more than ten years: start-up refuses, naming the setting."""
    with pytest.raises(ConfigError, match="CARD_CHECK_RETENTION_MONTHS must be from 1 to 120"):
        create_app({**app_config, "CARD_CHECK_RETENTION_MONTHS": months})


def test_a_retired_setting_in_the_environment_stops_start_up(app_config, monkeypatch):
    """REGISTER_IMPORT_DIR is gone (uploads wait in the job storage): an environment that still sets
    it is told where its files go now, rather than leaving them where nothing reads them."""
    monkeypatch.setenv("REGISTER_IMPORT_DIR", "/srv/carte/imports")
    with pytest.raises(
        ConfigError, match=r"REGISTER_IMPORT_DIR is no longer a setting: .*JOB_FILES_DIR, under imports/"
    ):
        build_settings(app_config)


@pytest.mark.parametrize("days", [0, -1, 366])
def test_an_export_retention_that_cannot_work_is_refused(app_config, days):
    """Export files kept no day at all, or more than a year: start-up refuses, naming the setting."""
    with pytest.raises(ConfigError, match="EXPORT_RETENTION_DAYS must be from 1 to 365"):
        create_app({**app_config, "EXPORT_RETENTION_DAYS": days})


def test_the_public_base_url_comes_from_the_environment_then_the_instance_file(app_config, monkeypatch):
    """The file `make setup` writes gives PUBLIC_BASE_URL when the environment does not; the environment wins."""
    del app_config["PUBLIC_BASE_URL"]
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    assert build_settings(app_config).PUBLIC_BASE_URL == "http://127.0.0.1:8000"
    remember_public_base_url(app_config["PUBLIC_BASE_URL_FILE"], "http://127.0.0.1:8101/")
    assert build_settings(app_config).PUBLIC_BASE_URL == "http://127.0.0.1:8101"
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://192.168.1.20:8101")
    assert build_settings(app_config).PUBLIC_BASE_URL == "http://192.168.1.20:8101"

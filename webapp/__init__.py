"""Carte Artisan: the digital professional card of Morocco's artisans."""

from __future__ import annotations

from typing import Any

from flask import Flask

from webapp import (
    access,
    admin,
    api,
    auth,
    backoffice,
    card,
    card_account,
    card_photo,
    card_requests,
    cli,
    clock,
    db,
    errors,
    extensions,
    faults,
    formats,
    i18n,
    jobs,
    json_provider,
    keyring,
    partner,
    public,
    scan,
    security,
    settings,
)
from webapp.settings import PROJECT_ROOT, build_settings


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings, stores, security, languages, blueprints, commands."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    # One time-zone source for the app, its commands and its job workers (they all start here).
    clock.use_pinned_tzdata()
    app_settings = build_settings(test_config)
    settings.init_app(app, app_settings, test_config)

    json_provider.init_app(app)  # before anything reads a request body
    db.init_app(app)
    jobs.init_app(app)  # after the database: jobs go on the queue when their rows commit
    keyring.init_app(app)
    security.init_app(app)  # first: its body-size check runs before CSRF or anything reads a form
    extensions.init_app(app)
    i18n.init_app(app)
    formats.init_app(app)  # after i18n: its filters replace Flask-Babel's date filters
    access.init_app(app)
    errors.init_app(app)
    faults.init_app(app)  # after errors: its 503s go through the same error layer

    app.register_blueprint(public.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(api.eligibility_lists_blueprint)
    app.register_blueprint(api.docs_blueprint)
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(partner.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(backoffice.blueprint)
    app.register_blueprint(scan.blueprint)
    app.register_blueprint(card.blueprint)
    app.register_blueprint(card_photo.blueprint)
    app.register_blueprint(card_account.blueprint)
    app.register_blueprint(card_requests.blueprint)

    cli.init_app(app)
    return app

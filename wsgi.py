"""Entry point: `gunicorn -c config/gunicorn.conf.py wsgi:app` serves it; `flask --app wsgi` runs commands."""

from webapp import create_app
from webapp.settings import ConfigError

try:
    app = create_app()
except ConfigError as refusal:
    # One line for the operator instead of a traceback.
    raise SystemExit(f"Carte Artisan cannot start: {refusal}") from None

"""Entry point: `gunicorn -c config/gunicorn.conf.py wsgi:app` serves it; `flask --app wsgi` runs commands."""

from webapp import create_app

app = create_app()

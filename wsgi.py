"""Entry point: `gunicorn -c config/gunicorn.conf.py wsgi:app` serves it; `flask --app wsgi` runs commands."""

import sys

from webapp import create_app
from webapp.settings import ConfigError

# gunicorn's exit status for "worker failed to boot": its master then stops instead of starting
# workers again and again (the master also checks the configuration itself before any worker).
WORKER_BOOT_ERROR = 3

try:
    app = create_app()
except ConfigError as refusal:
    # One line for the operator instead of a traceback.
    print(f"Carte Artisan cannot start: {refusal}", file=sys.stderr)
    raise SystemExit(WORKER_BOOT_ERROR) from None

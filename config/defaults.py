"""Committed default settings. Secrets never go here: they come from the environment.

Every name below can be overridden by an environment variable of the same name (see
webapp/settings.py, which also validates the result at start-up).
"""

# "development" or "production". Production refuses to start without a secret key (a missing or
# unreadable signing key is logged as an error at start, not refused: docs/operations.md).
CARTE_ENV = "development"

# Embedded default: SQLite in instance/. Production sets DATABASE_URL=postgresql+psycopg://...
DATABASE_URL = "sqlite:///instance/carte.sqlite3"

# Where the printed QR codes point. The QR text is PUBLIC_BASE_URL + "/v#" + encoded token,
# so this must never change once cards are printed.
PUBLIC_BASE_URL = "http://127.0.0.1:8000"
# Development: `make setup` (`flask setup` with PUBLIC_BASE_URL set, as `PORT=8101 make run` does)
# writes the instance's address here, so the commands run later print QR codes that point at it
# too. The PUBLIC_BASE_URL environment variable still wins; production sets it and has no file.
PUBLIC_BASE_URL_FILE = "instance/public_base_url"
# QR budget: at most 26 characters (e.g. https://carte.artisanat.ma) keeps QR version 11 for
# names up to 25 characters and 12 for 40 (docs/card-token.md).

# Folder of private signing keys (<kid>.pem, mode 0600). Relative paths are from the project root.
KEYS_DIR = "keys"

# A file holding the Flask secret key, used when SECRET_KEY is not in the environment.
SECRET_KEY_FILE = "instance/secret_key"

# How long a newly issued or renewed card is valid.
CARD_VALIDITY_YEARS = 5

# Key objects are loaded once per process and re-read after this many seconds, so that a
# rotation or retirement made by the CLI reaches running workers.
KEYRING_REFRESH_SECONDS = 30

# How long anyone (browsers, CDNs, partners' verifiers) may cache the JWKS. A key is published at
# least this long before it signs (`keys rotate --to` warns otherwise).
TRUST_MAX_AGE_SECONDS = 300

# The signed status list: how long clients may cache it (HTTP max-age, and the token's ttl: one
# number), and how long a signed list stays valid (its exp; it is signed again after half of it).
STATUS_LIST_MAX_AGE_SECONDS = 300
# 8 days: longer than the longest maximum age of a verifier's trust bundle (the public's 7 days),
# so that a phone offline for a week still holds an unexpired list (docs/card-token.md S7, B4).
STATUS_LIST_VALIDITY_SECONDS = 8 * 86400
# How long the public verifier (no partner account) may rely on its trust bundle offline. Partner
# staff get their partner kind's maximum age (reference table partner_kind, editable).
PUBLIC_BUNDLE_MAX_AGE_HOURS = 7 * 24

# Rate limits (Flask-Limiter syntax), per client address. Storage: memory:// counts per worker
# (development); production requires redis://host:6379, shared by every worker and instance.
RATELIMIT_STORAGE_URI = "memory://"
# Put before every key the limits and sign-in locks write to that store: two deployments (a
# trial and production) or two test runs can share one Redis without counting together.
RATELIMIT_KEY_PREFIX = ""
# Verification is generous: the phones of a whole souk or depot often reach us from ONE carrier
# address (carrier-grade NAT). 30 staff scanning a card every 2 seconds make 900 a minute; a
# token cannot be guessed (it is signed), so the limit only guards capacity, not secrecy.
VERIFY_RATE_LIMIT = "1200 per minute"
# Login guards passwords: strict, per address.
LOGIN_RATE_LIMIT = "10 per minute"
# Sign-in locks (on top of LOGIN_RATE_LIMIT). An account is locked for SIGN_IN_LOCK_MINUTES after
# SIGN_IN_LOCK_AFTER_FAILURES failed sign-ins in a row (none more than SIGN_IN_LOCK_MINUTES apart);
# a typed email that matches no account locks the same way, so a lock tells nothing about which
# addresses exist. A client address is locked as long after SIGN_IN_CLIENT_LOCK_AFTER_FAILURES
# failures within SIGN_IN_LOCK_MINUTES, whatever the accounts: it stops one machine trying a few
# passwords on many accounts. Its counts live in RATELIMIT_STORAGE_URI (Redis in production), so
# every worker sees them.
SIGN_IN_LOCK_AFTER_FAILURES = 5
SIGN_IN_LOCK_MINUTES = 15
SIGN_IN_CLIENT_LOCK_AFTER_FAILURES = 20

# The shortest password a person may choose (temporary passwords are generated). At least 10: the
# list of common passwords shipped with the product holds those of 10 characters and more.
PASSWORD_MIN_LENGTH = 12

# Redemptions per client address: a counter records a few a minute; an offline queue syncs in a burst.
REDEMPTION_RATE_LIMIT = "600 per minute"

# Reverse proxies in front of gunicorn whose X-Forwarded-For is trusted (0: none, serve directly).
TRUSTED_PROXY_COUNT = 0

# Largest request body accepted (bytes); the verify API answers 413 above 8 KB.
MAX_CONTENT_LENGTH = 8192

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False

# Bulk import of the register (back office and `flask --app wsgi register import`): the largest
# file accepted (bytes; the national register of 622,000 artisans is about 90 MB as CSV). Uploaded
# files wait for their check and confirmation in the job storage (JOB_FILES_DIR, under imports/).
REGISTER_IMPORT_MAX_BYTES = 200 * 1024 * 1024
# Exports of the register are jobs (any size): their file, in the job storage (JOB_FILES_DIR), is
# offered for download this many days, then deleted by `flask --app wsgi jobs purge-files`.
EXPORT_RETENTION_DAYS = 7

# --- Faults and timeouts (docs/operations.md, "Faults and timeouts") ---
# Every call to the database or Redis has a deadline, so that a store that is down, hung or slow
# costs a request a few seconds and a clear 503, never a worker stuck until gunicorn kills it.
# Web requests get short limits; commands (`flask --app wsgi ...`: imports, `cards issue-all`) and
# the back office's background imports get DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS instead.
#
# Seconds to open a database connection (libpq connect_timeout; PostgreSQL only).
DATABASE_CONNECT_TIMEOUT_SECONDS = 2
# Longest statement of a web request, enforced by PostgreSQL itself (statement_timeout).
DATABASE_STATEMENT_TIMEOUT_SECONDS = 3
# Longest wait for a row or table lock in a web request (PostgreSQL lock_timeout).
DATABASE_LOCK_TIMEOUT_SECONDS = 2
# A connection left inside a transaction this long is closed by PostgreSQL, releasing its locks
# (idle_in_transaction_session_timeout; a crashed worker or a stuck client cannot hold rows).
DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS = 60
# Longest statement of a command or background job (0: no limit).
DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS = 0
# Longest wait for a free connection of the worker's pool.
DATABASE_POOL_TIMEOUT_SECONDS = 2
# Test each pooled connection before use (one round trip): a connection the server closed (restart,
# failover) is replaced at once instead of failing the request.
DATABASE_POOL_PRE_PING = True
# How long SQLite waits for another writer's lock before "database is locked" (the embedded store).
SQLITE_BUSY_TIMEOUT_SECONDS = 3
# A web request that has not answered after this many seconds is stopped and answered 503
# database_unavailable (the only thing that stops a request waiting on a hung PostgreSQL, whose
# kernel still acknowledges packets: libpq would wait on the socket forever). A sync worker's
# alarm (SIGALRM); 0 turns it off. Exports and uploads get REQUEST_LONG_DEADLINE_SECONDS, kept under
# gunicorn's worker timeout (30 s, config/gunicorn.conf.py) so they end in a 503, not a killed worker.
REQUEST_DEADLINE_SECONDS = 4
REQUEST_LONG_DEADLINE_SECONDS = 25
# Redis (rate limits and sign-in lock counters): seconds to connect, and to wait for any answer.
REDIS_CONNECT_TIMEOUT_SECONDS = 1
REDIS_SOCKET_TIMEOUT_SECONDS = 1
# While Redis cannot answer, the verify limit is counted in each worker's memory (capacity only;
# sign-in fails closed instead). Redis is tried again after this many seconds.
REDIS_RETRY_SECONDS = 5

# --- Card activation codes (docs/operations.md, "Card activation codes") ---
# How long a one-time activation code stays usable after it is issued (a new code ends the old one).
ACTIVATION_CODE_VALIDITY_DAYS = 60
# Guessing limits, counted in RATELIMIT_STORAGE_URI like the sign-in locks (and failing closed when
# it cannot answer): a card refuses every code, right or wrong, for ACTIVATION_LOCK_MINUTES after
# ACTIVATION_LOCK_AFTER_FAILURES failures within that time; a client address likewise after
# ACTIVATION_CLIENT_LOCK_AFTER_FAILURES failures, whatever the cards. With the defaults, trying every
# birth date of one card (about 22,000) takes longer than a code lives.
ACTIVATION_LOCK_AFTER_FAILURES = 5
ACTIVATION_CLIENT_LOCK_AFTER_FAILURES = 20
ACTIVATION_LOCK_MINUTES = 60
# How SMS (sign-in codes to an artisan's phone) leave: "console" writes each message to the app's log
# (development and trials; no SMS provider is connected yet, webapp/services/accounts/sms.py).
SMS_GATEWAY = "console"

# --- Who checked a card (docs/operations.md, "Card checks") ---
# Partners' checks of a card, and the monthly counts of anonymous checks, are kept this many months
# (stated on the artisan's page), then deleted by `flask --app wsgi cards purge-checks` (daily timer).
CARD_CHECK_RETENTION_MONTHS = 12

# --- Job workers (docs/operations.md, "Job workers") ---
# Long work (imports, exports, eligibility lists, card roll-out and re-issue, print batches) runs on
# job workers (`flask --app wsgi jobs worker`), never in a web request. Their queue: a SQLite file
# for one machine (`make run`), Redis in production (required there: several instances and workers
# share it), "immediate" in tests (a job runs when the transaction that submitted it commits).
JOB_QUEUE_URL = "sqlite:///instance/jobs.sqlite3"
# The queue's name in it (Redis keys "huey.redis.<name>"): deployments sharing one Redis differ here.
JOB_QUEUE_NAME = "carte"
# Where jobs' files live (uploads waiting to be imported, exports, print batches). With several
# servers, a volume shared by every web instance and worker.
JOB_FILES_DIR = "instance/files"
# A running job reports progress (its heartbeat) at most this often, in seconds...
JOB_HEARTBEAT_SECONDS = 1
# ...and one silent for this long is marked interrupted (its worker was killed), with what it had
# written. Also: a job queued for this long that no worker took is put on the queue again.
JOB_STALE_SECONDS = 120

# --- Print batches for the postal printer (docs/operations.md, "Print batches") ---
# A batch's files (the cards PDF, the letters with their activation codes, the manifest) are kept
# this many days after they are rendered, then deleted (`flask --app wsgi print purge-files`, daily
# timer); the batch's rows stay.
PRINT_BATCH_RETENTION_DAYS = 90
# Cards per part of a batch's job: the parts render in parallel on the workers.
PRINT_BATCH_PART_SIZE = 250

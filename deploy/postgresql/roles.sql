-- Carte Artisan: PostgreSQL roles (docs/operations.md, "Database roles"; docs/audit-trail.md).
--
-- Two roles:
--   carte_owner  owns the schema and the tables; `flask --app wsgi db upgrade` runs as it (the
--                migrations create tables and the audit trail's triggers). Nothing else logs in
--                with it; only it can drop a trigger.
--   carte_app    what gunicorn and the job workers use (DATABASE_URL): reads and writes the
--                register, cards and partners' data, but may only INSERT and SELECT on the audit
--                trail and its checkpoints: no UPDATE, no DELETE, no TRUNCATE (the triggers
--                refuse them as well, for any role; this makes two locks, not one).
--
-- Run once as a superuser, then again after each `db upgrade` that adds tables (the GRANTs are
-- idempotent; the default privileges below cover tables the owner creates later):
--   psql -v ON_ERROR_STOP=1 -v owner_password="'...'" -v app_password="'...'" -d carte -f deploy/postgresql/roles.sql
-- DATABASE_URL of the app: postgresql+psycopg://carte_app:...@db/carte
-- DATABASE_URL of `db upgrade` (and `audit verify`, which only reads): postgresql+psycopg://carte_owner:...@db/carte

SELECT 'CREATE ROLE carte_owner LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'carte_owner')\gexec
SELECT 'CREATE ROLE carte_app LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'carte_app')\gexec
ALTER ROLE carte_owner PASSWORD :owner_password;
ALTER ROLE carte_app PASSWORD :app_password;

ALTER DATABASE :"DBNAME" OWNER TO carte_owner;
ALTER SCHEMA public OWNER TO carte_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO carte_app;

-- Everything the owner has created and will create: read and write for the application ...
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO carte_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO carte_app;
ALTER DEFAULT PRIVILEGES FOR ROLE carte_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO carte_app;
ALTER DEFAULT PRIVILEGES FOR ROLE carte_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO carte_app;

-- ... except the trail: append and read only. (The chain head moves with every append: the
-- application updates it; `audit verify` checks it against the events, so altering it shows.)
REVOKE UPDATE, DELETE, TRUNCATE ON audit_event, audit_checkpoint FROM carte_app;
GRANT SELECT, INSERT ON audit_event, audit_checkpoint TO carte_app;
GRANT SELECT, INSERT, UPDATE ON audit_chain_head TO carte_app;
REVOKE DELETE, TRUNCATE ON audit_chain_head FROM carte_app;

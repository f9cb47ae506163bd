-- Audit integrity: the application must not be able to rewrite its own audit trail. Until now it
-- connected as the owner of audit_events, and an owner may disable the append-only trigger.
--
-- Two roles nobody logs in as (roles belong to the whole PostgreSQL cluster: created once, shared
-- by every database of it):
--   the_eye_audit  owns audit_events, its sequence and its trigger function;
--   the_eye_app    the role the application's connections take (`-c role=the_eye_app`, see
--                  src/prisma/pg-pool.ts): reads and writes every table, but may only INSERT and
--                  SELECT audit_events, owns nothing, and so can neither disable the trigger,
--                  nor UPDATE, DELETE, TRUNCATE or DROP the trail.
-- Migrations keep running as the login role of DATABASE_URL, which must be allowed to create
-- roles (a superuser, or CREATEROLE). What this protects and what it does not: docs/security.md.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'the_eye_app') THEN
    CREATE ROLE the_eye_app NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL; -- created meanwhile by the migration of another database of the cluster
END $$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'the_eye_audit') THEN
    CREATE ROLE the_eye_audit NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END $$;

-- The login role of DATABASE_URL may take the_eye_app (SET ROLE), nothing more.
DO $$
BEGIN
  IF NOT pg_has_role(current_user, 'the_eye_app', 'MEMBER') THEN
    EXECUTE format('GRANT the_eye_app TO %I', current_user);
  END IF;
END $$;

GRANT USAGE ON SCHEMA public TO the_eye_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO the_eye_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO the_eye_app;
-- Tables and sequences later migrations create (as this same login role) get the same rights.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO the_eye_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO the_eye_app;
-- The migrations' bookkeeping: readable (a start that finds nothing to apply only reads it), not writable.
REVOKE ALL ON "_prisma_migrations" FROM the_eye_app;
GRANT SELECT ON "_prisma_migrations" TO the_eye_app;

-- The audit trail: insert and read, nothing else.
REVOKE ALL ON "audit_events" FROM the_eye_app;
GRANT SELECT, INSERT ON "audit_events" TO the_eye_app;
GRANT USAGE ON SEQUENCE "audit_events_id_seq" TO the_eye_app;
REVOKE UPDATE ON SEQUENCE "audit_events_id_seq" FROM the_eye_app;

-- Handed to the_eye_audit. A login role that is not a superuser must be a member of the new
-- owner, and the owner must be able to create in the schema, for the hand-over: it joins for the
-- moment of the ALTERs only, so that afterwards it cannot SET ROLE the_eye_audit either.
DO $$
DECLARE
  superuser boolean := (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
BEGIN
  IF NOT superuser THEN
    EXECUTE format('GRANT the_eye_audit TO %I', current_user);
    GRANT CREATE ON SCHEMA public TO the_eye_audit;
  END IF;
  ALTER TABLE "audit_events" OWNER TO the_eye_audit;
  ALTER FUNCTION audit_events_append_only() OWNER TO the_eye_audit;
  IF NOT superuser THEN
    EXECUTE format('REVOKE the_eye_audit FROM %I', current_user);
  END IF;
END $$;

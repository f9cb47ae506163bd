-- Storage over time (docs/storage.md): `events` becomes partitioned by UTC day of `timestamp`, the
-- idempotency key moves to a ledger that spans both tiers, and the archive's files are registered.
--
-- 1. `events` PARTITION BY RANGE (timestamp), one partition per UTC day named events_pYYYYMMDD, no
--    DEFAULT partition (a DEFAULT would have to be scanned, and split, whenever a day is created).
--    A unique key of a partitioned table must hold the partition key, so events_pkey becomes
--    (id, client_id, timestamp): it still finds an event by id (its leading column, one probe per
--    partition) but no longer stops a resend with another timestamp.
-- 2. `event_ids`, the deduplication ledger: one row per (id, client_id) first received within
--    DEDUPE_WINDOW_DAYS, whatever tier the event now lives in. The worker inserts here first and
--    stores only the events whose key was new. The archive pass trims rows older than the window
--    (received_at, read through a BRIN index: rows arrive in received_at order).
-- 3. `archive_files`: the Parquet files that hold archived events. Readers read the registered
--    files only, in the same snapshot as the partitions (docs/storage.md, "the move"): a file on
--    disk and not registered is a pass that died before it committed, and is removed by the next.
-- 4. Two SECURITY DEFINER functions create and drop day partitions for the application's role
--    (the_eye_app owns no table and so may not do either itself).

ALTER TABLE "events" RENAME TO "events_unpartitioned";
ALTER INDEX "events_pkey" RENAME TO "events_unpartitioned_pkey";
ALTER INDEX "events_session_time_idx" RENAME TO "events_unpartitioned_session_time_idx";
ALTER INDEX "events_type_time_idx" RENAME TO "events_unpartitioned_type_time_idx";
ALTER INDEX "events_time_idx" RENAME TO "events_unpartitioned_time_idx";
ALTER INDEX "events_category_time_idx" RENAME TO "events_unpartitioned_category_time_idx";
ALTER INDEX "events_client_time_idx" RENAME TO "events_unpartitioned_client_time_idx";
ALTER INDEX "events_name_time_idx" RENAME TO "events_unpartitioned_name_time_idx";

CREATE TABLE "events" (
    "id" UUID NOT NULL,
    "seq" BIGINT NOT NULL DEFAULT nextval('events_seq_seq'),
    "session_id" VARCHAR(128) NOT NULL,
    "category" VARCHAR(100) NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "data" JSONB NOT NULL,
    "timestamp" TIMESTAMPTZ(6) NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL,
    "stored_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "client_id" VARCHAR(64) NOT NULL,
    CONSTRAINT "events_pkey" PRIMARY KEY ("id", "client_id", "timestamp")
) PARTITION BY RANGE ("timestamp");
-- The worker falls back to pg_get_serial_sequence('events', 'seq'): the sequence follows the column.
ALTER SEQUENCE "events_seq_seq" OWNED BY "events"."seq";

CREATE INDEX "events_session_time_idx" ON "events"("session_id", "timestamp", "seq") INCLUDE ("category", "name", "client_id");
CREATE INDEX "events_type_time_idx" ON "events"("category", "name", "timestamp", "seq") INCLUDE ("session_id", "client_id");
CREATE INDEX "events_time_idx" ON "events"("timestamp", "seq");
CREATE INDEX "events_category_time_idx" ON "events"("category", "timestamp", "seq");
CREATE INDEX "events_client_time_idx" ON "events"("client_id", "timestamp", "seq");
CREATE INDEX "events_name_time_idx" ON "events"("name", "timestamp", "seq");

CREATE TABLE "event_ids" (
    "id" UUID NOT NULL,
    "client_id" VARCHAR(64) NOT NULL,
    "timestamp" TIMESTAMPTZ(6) NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL,
    CONSTRAINT "event_ids_pkey" PRIMARY KEY ("id", "client_id")
);
CREATE INDEX "event_ids_received_brin" ON "event_ids" USING BRIN ("received_at") WITH (autosummarize = on);

CREATE TABLE "archive_files" (
    "path" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "events" BIGINT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "archived_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "archive_files_pkey" PRIMARY KEY ("path")
);
CREATE INDEX "archive_files_day_idx" ON "archive_files"("day");

-- Creates the partition of UTC day `day` unless it exists; true when it created it. Concurrent
-- callers for one day queue on an advisory lock, so exactly one creates it.
CREATE FUNCTION the_eye_create_event_partition(day DATE) RETURNS BOOLEAN
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  part TEXT := 'events_p' || to_char(day, 'YYYYMMDD');
BEGIN
  IF to_regclass(part) IS NOT NULL THEN RETURN FALSE; END IF;
  PERFORM pg_advisory_xact_lock(7451002, day - DATE '2000-01-01');
  IF to_regclass(part) IS NOT NULL THEN RETURN FALSE; END IF;
  EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)', part,
                 to_char(day, 'YYYY-MM-DD') || ' 00:00:00+00', to_char(day + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
  RETURN TRUE;
END $$;

-- Drops the partition of UTC day `day` if it exists; true when it dropped it. The archive pass
-- calls it in the transaction that registers the day's file (docs/storage.md).
CREATE FUNCTION the_eye_drop_event_partition(day DATE) RETURNS BOOLEAN
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  part TEXT := 'events_p' || to_char(day, 'YYYYMMDD');
BEGIN
  IF to_regclass(part) IS NULL THEN RETURN FALSE; END IF;
  EXECUTE format('DROP TABLE %I', part);
  RETURN TRUE;
END $$;

REVOKE ALL ON FUNCTION the_eye_create_event_partition(DATE) FROM PUBLIC;
REVOKE ALL ON FUNCTION the_eye_drop_event_partition(DATE) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION the_eye_create_event_partition(DATE) TO the_eye_app;
GRANT EXECUTE ON FUNCTION the_eye_drop_event_partition(DATE) TO the_eye_app;

-- The events stored so far move into their days' partitions, and their keys into the ledger.
DO $$
DECLARE
  d DATE;
BEGIN
  FOR d IN SELECT DISTINCT ("timestamp" AT TIME ZONE 'UTC')::DATE FROM "events_unpartitioned" LOOP
    PERFORM the_eye_create_event_partition(d);
  END LOOP;
END $$;
INSERT INTO "events" SELECT * FROM "events_unpartitioned";
INSERT INTO "event_ids" ("id", "client_id", "timestamp", "received_at")
SELECT "id", "client_id", "timestamp", "received_at" FROM "events_unpartitioned";
DROP TABLE "events_unpartitioned";

-- Tables made here by this login role already get the_eye_app's rights (ALTER DEFAULT
-- PRIVILEGES of 20261207191357_audit_owner_role); partitions made later by the functions above
-- are made by their owner, this same role, and get them too.

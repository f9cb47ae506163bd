-- Analytics (GET /v1/events): keyset scans in (timestamp, seq) order filtered by category alone or
-- by client alone. Without them a category-only query must sort every row of the category, and a
-- client filter walks events_time_idx discarding other clients' rows.

-- CreateIndex
CREATE INDEX "events_category_time_idx" ON "events"("category", "timestamp", "seq");

-- CreateIndex
CREATE INDEX "events_client_time_idx" ON "events"("client_id", "timestamp", "seq");

-- GET /v1/stats/events?interval=hour|day: hourly and daily rollups of event_counts, so a page of
-- hourly or daily counts is an index range scan of its own table instead of re-aggregating up to
-- 43,200 minute rows per type and month. Kept exact by statement-level triggers on event_counts
-- (inserts add their count, updates add the difference), inside the transaction that changes
-- event_counts; each trigger upserts its rows in key order, so concurrent writers lock rollup rows
-- in the same order. Days are UTC days.

-- CreateTable
CREATE TABLE "event_counts_hourly" (
    "bucket" TIMESTAMPTZ(6) NOT NULL,
    "category" VARCHAR(100) NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "count" BIGINT NOT NULL,

    CONSTRAINT "event_counts_hourly_pkey" PRIMARY KEY ("bucket","category","name")
);

-- CreateTable
CREATE TABLE "event_counts_daily" (
    "bucket" TIMESTAMPTZ(6) NOT NULL,
    "category" VARCHAR(100) NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "count" BIGINT NOT NULL,

    CONSTRAINT "event_counts_daily_pkey" PRIMARY KEY ("bucket","category","name")
);

CREATE FUNCTION "event_counts_rollup_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_counts_hourly AS h (bucket, category, name, count)
    SELECT date_trunc('hour', bucket, 'UTC'), category, name, sum(delta)
    FROM (SELECT bucket, category, name, count AS delta FROM new_rows) AS delta GROUP BY 1, 2, 3 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3
  ON CONFLICT (bucket, category, name) DO UPDATE SET count = h.count + EXCLUDED.count;
  INSERT INTO event_counts_daily AS d (bucket, category, name, count)
    SELECT date_trunc('day', bucket, 'UTC'), category, name, sum(delta)
    FROM (SELECT bucket, category, name, count AS delta FROM new_rows) AS delta GROUP BY 1, 2, 3 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3
  ON CONFLICT (bucket, category, name) DO UPDATE SET count = d.count + EXCLUDED.count;
  RETURN NULL;
END $$;

CREATE FUNCTION "event_counts_rollup_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_counts_hourly AS h (bucket, category, name, count)
    SELECT date_trunc('hour', bucket, 'UTC'), category, name, sum(delta)
    FROM (SELECT bucket, category, name, count AS delta FROM new_rows UNION ALL SELECT bucket, category, name, -count FROM old_rows) AS delta GROUP BY 1, 2, 3 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3
  ON CONFLICT (bucket, category, name) DO UPDATE SET count = h.count + EXCLUDED.count;
  INSERT INTO event_counts_daily AS d (bucket, category, name, count)
    SELECT date_trunc('day', bucket, 'UTC'), category, name, sum(delta)
    FROM (SELECT bucket, category, name, count AS delta FROM new_rows UNION ALL SELECT bucket, category, name, -count FROM old_rows) AS delta GROUP BY 1, 2, 3 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3
  ON CONFLICT (bucket, category, name) DO UPDATE SET count = d.count + EXCLUDED.count;
  RETURN NULL;
END $$;

CREATE FUNCTION "event_counts_rollup_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_counts_hourly AS h (bucket, category, name, count)
    SELECT date_trunc('hour', bucket, 'UTC'), category, name, sum(delta)
    FROM (SELECT bucket, category, name, -count AS delta FROM old_rows) AS delta GROUP BY 1, 2, 3 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3
  ON CONFLICT (bucket, category, name) DO UPDATE SET count = h.count + EXCLUDED.count;
  INSERT INTO event_counts_daily AS d (bucket, category, name, count)
    SELECT date_trunc('day', bucket, 'UTC'), category, name, sum(delta)
    FROM (SELECT bucket, category, name, -count AS delta FROM old_rows) AS delta GROUP BY 1, 2, 3 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3
  ON CONFLICT (bucket, category, name) DO UPDATE SET count = d.count + EXCLUDED.count;
  RETURN NULL;
END $$;

-- Backfill from the counts already stored (the migration runs in one transaction).
INSERT INTO event_counts_hourly (bucket, category, name, count)
  SELECT date_trunc('hour', bucket, 'UTC'), category, name, sum(count) FROM event_counts GROUP BY 1, 2, 3;
INSERT INTO event_counts_daily (bucket, category, name, count)
  SELECT date_trunc('day', bucket, 'UTC'), category, name, sum(count) FROM event_counts GROUP BY 1, 2, 3;

CREATE TRIGGER "event_counts_rollup_ins" AFTER INSERT ON "event_counts"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION event_counts_rollup_insert();
CREATE TRIGGER "event_counts_rollup_upd" AFTER UPDATE ON "event_counts"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION event_counts_rollup_update();
CREATE TRIGGER "event_counts_rollup_del" AFTER DELETE ON "event_counts"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION event_counts_rollup_delete();

-- GET /v1/stats/events?group_by=client_id and ?client_id=: the per-minute counts and their hourly
-- and daily rollups are kept per client as well as per type, so stats by client never read the
-- events table. The worker's single upsert groups by the extra column (same statement, same key
-- order); the rollup triggers carry it through.

-- The counts stored so far have no client: rebuild them from the events (the triggers stay off
-- while the three tables are rebuilt consistently, inside the migration's transaction).
ALTER TABLE "event_counts" DISABLE TRIGGER USER;
TRUNCATE "event_counts", "event_counts_hourly", "event_counts_daily";

ALTER TABLE "event_counts" ADD COLUMN "client_id" VARCHAR(64) NOT NULL;
ALTER TABLE "event_counts" DROP CONSTRAINT "event_counts_pkey";
ALTER TABLE "event_counts" ADD CONSTRAINT "event_counts_pkey" PRIMARY KEY ("bucket", "category", "name", "client_id");

ALTER TABLE "event_counts_hourly" ADD COLUMN "client_id" VARCHAR(64) NOT NULL;
ALTER TABLE "event_counts_hourly" DROP CONSTRAINT "event_counts_hourly_pkey";
ALTER TABLE "event_counts_hourly" ADD CONSTRAINT "event_counts_hourly_pkey" PRIMARY KEY ("bucket", "category", "name", "client_id");

ALTER TABLE "event_counts_daily" ADD COLUMN "client_id" VARCHAR(64) NOT NULL;
ALTER TABLE "event_counts_daily" DROP CONSTRAINT "event_counts_daily_pkey";
ALTER TABLE "event_counts_daily" ADD CONSTRAINT "event_counts_daily_pkey" PRIMARY KEY ("bucket", "category", "name", "client_id");

INSERT INTO event_counts (bucket, category, name, client_id, count)
  SELECT date_trunc('minute', timestamp, 'UTC'), category, name, client_id, count(*) FROM events GROUP BY 1, 2, 3, 4;
INSERT INTO event_counts_hourly (bucket, category, name, client_id, count)
  SELECT date_trunc('hour', bucket, 'UTC'), category, name, client_id, sum(count) FROM event_counts GROUP BY 1, 2, 3, 4;
INSERT INTO event_counts_daily (bucket, category, name, client_id, count)
  SELECT date_trunc('day', bucket, 'UTC'), category, name, client_id, sum(count) FROM event_counts GROUP BY 1, 2, 3, 4;

CREATE OR REPLACE FUNCTION "event_counts_rollup_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_counts_hourly AS h (bucket, category, name, client_id, count)
    SELECT date_trunc('hour', bucket, 'UTC'), category, name, client_id, sum(delta)
    FROM (SELECT bucket, category, name, client_id, count AS delta FROM new_rows) AS delta GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3, 4
  ON CONFLICT (bucket, category, name, client_id) DO UPDATE SET count = h.count + EXCLUDED.count;
  INSERT INTO event_counts_daily AS d (bucket, category, name, client_id, count)
    SELECT date_trunc('day', bucket, 'UTC'), category, name, client_id, sum(delta)
    FROM (SELECT bucket, category, name, client_id, count AS delta FROM new_rows) AS delta GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3, 4
  ON CONFLICT (bucket, category, name, client_id) DO UPDATE SET count = d.count + EXCLUDED.count;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION "event_counts_rollup_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_counts_hourly AS h (bucket, category, name, client_id, count)
    SELECT date_trunc('hour', bucket, 'UTC'), category, name, client_id, sum(delta)
    FROM (SELECT bucket, category, name, client_id, count AS delta FROM new_rows UNION ALL SELECT bucket, category, name, client_id, -count FROM old_rows) AS delta GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3, 4
  ON CONFLICT (bucket, category, name, client_id) DO UPDATE SET count = h.count + EXCLUDED.count;
  INSERT INTO event_counts_daily AS d (bucket, category, name, client_id, count)
    SELECT date_trunc('day', bucket, 'UTC'), category, name, client_id, sum(delta)
    FROM (SELECT bucket, category, name, client_id, count AS delta FROM new_rows UNION ALL SELECT bucket, category, name, client_id, -count FROM old_rows) AS delta GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3, 4
  ON CONFLICT (bucket, category, name, client_id) DO UPDATE SET count = d.count + EXCLUDED.count;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION "event_counts_rollup_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_counts_hourly AS h (bucket, category, name, client_id, count)
    SELECT date_trunc('hour', bucket, 'UTC'), category, name, client_id, sum(delta)
    FROM (SELECT bucket, category, name, client_id, -count AS delta FROM old_rows) AS delta GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3, 4
  ON CONFLICT (bucket, category, name, client_id) DO UPDATE SET count = h.count + EXCLUDED.count;
  INSERT INTO event_counts_daily AS d (bucket, category, name, client_id, count)
    SELECT date_trunc('day', bucket, 'UTC'), category, name, client_id, sum(delta)
    FROM (SELECT bucket, category, name, client_id, -count AS delta FROM old_rows) AS delta GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3, 4
  ON CONFLICT (bucket, category, name, client_id) DO UPDATE SET count = d.count + EXCLUDED.count;
  RETURN NULL;
END $$;

ALTER TABLE "event_counts" ENABLE TRIGGER USER;

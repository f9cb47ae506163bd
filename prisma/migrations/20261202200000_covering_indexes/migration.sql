-- POST /v1/funnels and GET /v1/rejected-events/summary read index entries only (index-only scans).
-- A funnel step is a range of one type's events joined to sessions: with session_id and client_id
-- in events_type_time_idx it never visits the heap (one page of index per ~100 events instead of
-- one heap page per event). The quarantine summary aggregates (reason, category, name) over a
-- time range: in the time indexes, those columns spare it reading rejected_events (whose rows
-- carry the raw payload and the errors). Same key columns, so the keyset reads of GET /v1/events
-- and GET /v1/rejected-events keep their plans; Prisma cannot express INCLUDE, so schema.prisma
-- shows the keys only.

DROP INDEX "events_type_time_idx";
CREATE INDEX "events_type_time_idx" ON "events"("category", "name", "timestamp", "seq") INCLUDE ("session_id", "client_id");

DROP INDEX "rejected_time_idx";
CREATE INDEX "rejected_time_idx" ON "rejected_events"("rejected_at", "seq") INCLUDE ("category", "name", "reasons");

DROP INDEX "rejected_client_time_idx";
CREATE INDEX "rejected_client_time_idx" ON "rejected_events"("client_id", "rejected_at", "seq") INCLUDE ("category", "name", "reasons");

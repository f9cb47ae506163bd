-- POST /v1/funnels and GET /v1/rejected-events/summary read index entries only (index-only scans).
-- A funnel step is a range of one type's events joined to sessions: with session_id and client_id
-- in events_type_time_idx it never visits the heap (one page of index per ~100 events instead of
-- one heap page per event). When few sessions remain, the planner probes each session's events
-- instead: category, name and client_id in events_session_time_idx spare those probes the heap.
-- The quarantine summary aggregates (reasons, category, name) over a time range: in the time
-- indexes, those columns spare it reading rejected_events (whose rows carry the raw payload and
-- the errors). Same key columns, so the keyset reads of GET /v1/events, the session timeline and
-- GET /v1/rejected-events keep their plans. Prisma cannot express INCLUDE: schema.prisma shows the
-- keys only. Sizes at 1M seeded events: events_type_time_idx 112 → 122 MB,
-- events_session_time_idx 99 → 119 MB.

DROP INDEX "events_type_time_idx";
CREATE INDEX "events_type_time_idx" ON "events"("category", "name", "timestamp", "seq") INCLUDE ("session_id", "client_id");

DROP INDEX "events_session_time_idx";
CREATE INDEX "events_session_time_idx" ON "events"("session_id", "timestamp", "seq") INCLUDE ("category", "name", "client_id");

DROP INDEX "rejected_time_idx";
CREATE INDEX "rejected_time_idx" ON "rejected_events"("rejected_at", "seq") INCLUDE ("category", "name", "reasons");

DROP INDEX "rejected_client_time_idx";
CREATE INDEX "rejected_client_time_idx" ON "rejected_events"("client_id", "rejected_at", "seq") INCLUDE ("category", "name", "reasons");

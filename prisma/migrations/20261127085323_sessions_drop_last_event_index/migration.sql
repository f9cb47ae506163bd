-- No query reads sessions by last_event_at (GET /v1/sessions orders and filters by
-- first_event_at). The index made every session upsert a non-HOT update: a new heap tuple plus an
-- entry in each of the table's indexes, for each session touched by each stored batch.

-- DropIndex
DROP INDEX "sessions_last_event_idx";

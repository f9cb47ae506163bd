-- GET /v1/events?name=… alone: a keyset scan in (timestamp, seq) order of one name. Without it a
-- name-only filter walked events_time_idx discarding other names (a rare name read the whole table)
-- or looked up the name's categories first; every filter of /v1/events, alone or combined, now
-- starts from an index whose leading column it fixes.

-- CreateIndex
CREATE INDEX "events_name_time_idx" ON "events"("name", "timestamp", "seq");

-- The deduplication ledger `event_ids` is the idempotency key of events in both tiers. The
-- partitioned table's own key (id, client_id, timestamp) was a second B-tree on random UUIDs that
-- every insert paid for, and it could not stop a resend with another timestamp anyway. Lookups by
-- id go through the ledger (id → client_id, timestamp) to events_client_time_idx in the one
-- partition of that day; the pass keeps the ledger's keys of every event still in a partition
-- (src/archive/archive-pass.service.ts).
ALTER TABLE "events" DROP CONSTRAINT "events_pkey";

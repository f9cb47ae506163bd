-- Event ids belong to their client: deduplication (the worker's ON CONFLICT) and every lookup by
-- id are per (client_id, id), so one client sending an id another used never hides, replaces or
-- shadows the other's event. id comes first: GET /v1/events/{id} without a client reads the
-- primary key by its leading column. No foreign key refers to either key.
-- event_seq keeps a quarantined event's arrival order for a replay (docs/ordering.md).

-- AlterTable
ALTER TABLE "events" DROP CONSTRAINT "events_pkey",
ADD CONSTRAINT "events_pkey" PRIMARY KEY ("id", "client_id");

-- AlterTable
ALTER TABLE "rejected_events" DROP CONSTRAINT "rejected_events_pkey",
ADD COLUMN     "event_seq" BIGINT,
ADD CONSTRAINT "rejected_events_pkey" PRIMARY KEY ("event_id", "client_id");


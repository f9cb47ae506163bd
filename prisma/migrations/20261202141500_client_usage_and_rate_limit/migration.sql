-- last_used_at: when the client last got a token or (to within a minute) made an authenticated
-- request. rate_limit: the client's own events/s limit; NULL = RATE_LIMIT_EVENTS_PER_SECOND,
-- 0 = unlimited.

-- AlterTable
ALTER TABLE "clients" ADD COLUMN     "last_used_at" TIMESTAMPTZ(6),
ADD COLUMN     "rate_limit" INTEGER;

-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "clients" (
    "id" VARCHAR(64) NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "scopes" TEXT[],
    "secret_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "rotated_at" TIMESTAMPTZ(6),
    "revoked_at" TIMESTAMPTZ(6),

    CONSTRAINT "clients_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "settings" (
    "key" VARCHAR(100) NOT NULL,
    "value" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "settings_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "events" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "session_id" VARCHAR(128) NOT NULL,
    "category" VARCHAR(100) NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "data" JSONB NOT NULL,
    "timestamp" TIMESTAMPTZ(6) NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL,
    "stored_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "client_id" VARCHAR(64) NOT NULL,

    CONSTRAINT "events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "session_id" VARCHAR(128) NOT NULL,
    "first_event_at" TIMESTAMPTZ(6) NOT NULL,
    "last_event_at" TIMESTAMPTZ(6) NOT NULL,
    "event_count" BIGINT NOT NULL,
    "client_ids" TEXT[],
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("session_id")
);

-- CreateTable
CREATE TABLE "event_counts" (
    "bucket" TIMESTAMPTZ(6) NOT NULL,
    "category" VARCHAR(100) NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "count" BIGINT NOT NULL,

    CONSTRAINT "event_counts_pkey" PRIMARY KEY ("bucket","category","name")
);

-- CreateTable
CREATE TABLE "rejected_events" (
    "event_id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "session_id" VARCHAR(128) NOT NULL,
    "category" VARCHAR(100) NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "raw" TEXT NOT NULL,
    "timestamp" TIMESTAMPTZ(6) NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL,
    "client_id" VARCHAR(64) NOT NULL,
    "reasons" TEXT[],
    "errors" JSONB NOT NULL,
    "rejected_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rejected_events_pkey" PRIMARY KEY ("event_id")
);

-- CreateTable
CREATE TABLE "event_schemas" (
    "category" VARCHAR(100) NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "version" INTEGER NOT NULL,
    "schema" JSONB NOT NULL,
    "created_by" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_schemas_pkey" PRIMARY KEY ("category","name","version")
);

-- CreateIndex
CREATE INDEX "events_session_time_idx" ON "events"("session_id", "timestamp", "seq");

-- CreateIndex
CREATE INDEX "events_type_time_idx" ON "events"("category", "name", "timestamp", "seq");

-- CreateIndex
CREATE INDEX "events_time_idx" ON "events"("timestamp", "seq");

-- CreateIndex
CREATE INDEX "sessions_first_event_idx" ON "sessions"("first_event_at");

-- CreateIndex
CREATE INDEX "sessions_last_event_idx" ON "sessions"("last_event_at");

-- CreateIndex
CREATE INDEX "rejected_time_idx" ON "rejected_events"("rejected_at", "seq");

-- CreateIndex
CREATE INDEX "rejected_type_time_idx" ON "rejected_events"("category", "name", "rejected_at", "seq");

-- CreateIndex
CREATE INDEX "rejected_client_time_idx" ON "rejected_events"("client_id", "rejected_at", "seq");


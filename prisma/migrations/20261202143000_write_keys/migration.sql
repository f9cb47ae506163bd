-- CreateTable
CREATE TABLE "write_keys" (
    "key_hash" CHAR(64) NOT NULL,
    "client_id" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "write_keys_pkey" PRIMARY KEY ("key_hash")
);

-- CreateIndex
CREATE INDEX "write_keys_client_idx" ON "write_keys"("client_id");


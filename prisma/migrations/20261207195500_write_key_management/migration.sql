-- Write keys become manageable one by one: a public id, a recognisable prefix, the origins whose
-- pages may use the key, its last use and its revocation.
ALTER TABLE "write_keys" ADD COLUMN     "allowed_origins" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "key_id" VARCHAR(40),
ADD COLUMN     "last_used_at" TIMESTAMPTZ(6),
ADD COLUMN     "prefix" VARCHAR(16),
ADD COLUMN     "revoked_at" TIMESTAMPTZ(6);

-- Keys issued before this migration get a random id (their prefix is unknown: only hashes were kept).
UPDATE "write_keys" SET "key_id" = 'key_' || substr(md5(random()::text || "key_hash"), 1, 20) WHERE "key_id" IS NULL;
ALTER TABLE "write_keys" ALTER COLUMN "key_id" SET NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "write_keys_key_id_key" ON "write_keys"("key_id");

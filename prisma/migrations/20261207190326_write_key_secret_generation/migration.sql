-- A write key remembers the secret generation of its client when it was issued: rotating the
-- client's secret refuses the keys issued before, as it refuses the tokens.

-- AlterTable
ALTER TABLE "write_keys" ADD COLUMN     "secret_gen" INTEGER NOT NULL DEFAULT 0;

-- Keys that exist already: a key issued before the client's last rotation is stale (-1 never
-- matches), the others belong to the current generation.
UPDATE "write_keys" w
SET "secret_gen" = CASE WHEN c."rotated_at" IS NOT NULL AND w."created_at" < c."rotated_at" THEN -1 ELSE c."secret_generation" END
FROM "clients" c
WHERE c."id" = w."client_id";

-- Tokens carry the secret generation they were issued under (claim "gen"); a rotation bumps it,
-- so every token issued before it is refused at once (iat has only second resolution).
ALTER TABLE "clients" ADD COLUMN "secret_generation" INTEGER NOT NULL DEFAULT 0;

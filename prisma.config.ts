// Prisma CLI configuration (the application never imports this file).
//
// Prisma 6.19 with `engine: "js"` runs the WASM schema engine shipped inside the `prisma`
// package and talks to PostgreSQL through @prisma/adapter-pg, so `prisma generate` and
// `prisma migrate diff` work offline (see docs/decisions.md, "Prisma offline").
// Migrations are applied by the application itself (src/prisma/migrator.ts), not by the CLI.
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

// The datasource's env("DATABASE_URL") must resolve even for `prisma generate`, otherwise the
// CLI falls back to the native engine and tries to download it.
process.env.DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/the_eye';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  experimental: { adapter: true },
  engine: 'js',
  // eslint-disable-next-line @typescript-eslint/require-await
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL, allowExitOnIdle: true }),
});

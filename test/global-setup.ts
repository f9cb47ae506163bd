import { rm } from 'node:fs/promises';
import Redis from 'ioredis';
import { Client } from 'pg';
import { migrate } from '../src/prisma/migrator';
import { TEST_ARCHIVE_DIR, TEST_DATABASE_URL, TEST_REDIS_URL } from './helpers/env';

/** A fresh test database with every migration applied, and an empty test Redis database. */
export default async function globalSetup(): Promise<void> {
  const dbName = new URL(TEST_DATABASE_URL).pathname.slice(1);
  const admin = new URL(TEST_DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await client.end();
  await migrate(TEST_DATABASE_URL);
  // The archive's registry went with the database: its files go too.
  await rm(TEST_ARCHIVE_DIR, { recursive: true, force: true });
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  await redis.connect();
  await redis.flushdb();
  redis.disconnect();
}

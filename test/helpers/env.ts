import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The environment of the e2e tests: their own database and Redis database index, so that
// running the suite never touches the development data.
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/the_eye_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
/** The e2e suite's archive (emptied with the test database by global-setup.ts). */
export const TEST_ARCHIVE_DIR = process.env.TEST_ARCHIVE_DIR ?? join(tmpdir(), 'the-eye-test-archive');
export const TEST_ADMIN_ID = 'test-admin';
export const TEST_ADMIN_SECRET = 'test-admin-secret-0123456789';

export function testEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    JWT_SECRET: 'test-jwt-secret-0123456789-0123456789-abcdef',
    ADMIN_CLIENT_ID: TEST_ADMIN_ID,
    ADMIN_CLIENT_SECRET: TEST_ADMIN_SECRET,
    JOB_LOCK_MS: '2000',
    LOG_LEVEL: 'error',
    // The archive pass runs when a test asks for it (POST /v1/ops/archive), never by itself.
    ARCHIVE_INTERVAL: '0',
    ARCHIVE_DIR: TEST_ARCHIVE_DIR,
    ...overrides,
  };
}

// Before any phase: the service built into dist-bench/ and started on fresh stores, a writer client
// with its token and Segment write key, and one checked request of each kind.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { BUILD_DIR, OUT_DIR, PROFILE_DIR, cfg, log } from './config';
import { httpJson } from './lib/http';
import { ROOT, type Service, TSX_REQUIRE, dropBenchDatabase, startService } from './lib/service';
import { payloads } from './phases';
import type { BenchContext } from './sampling';
import type { CreatedClientDto, TokenResponseDto, WriteKeyDto } from '../packages/client/src/wire/openapi';

export function build(): void {
  if (!existsSync(join(ROOT, 'src/generated/prisma/client.ts'))) {
    log('src/generated missing: npx prisma generate');
    execFileSync('npx', ['prisma', 'generate'], { cwd: ROOT, stdio: 'inherit', timeout: 180_000 });
  }
  log(`building into ${BUILD_DIR}/ (tsc -p tsconfig.build.json)`);
  rmSync(join(ROOT, BUILD_DIR), { recursive: true, force: true });
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR], {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: 300_000,
  });
}

/** The service creates the database and applies migrations at start; a fresh database each run keeps
 * clients and settings from piling up. */
export async function resetStores(redis: Redis): Promise<void> {
  await dropBenchDatabase(cfg.databaseUrl);
  await redis.flushdb();
}

export async function startBenchService(port: number): Promise<Service> {
  const serviceEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    DATABASE_URL: cfg.databaseUrl,
    REDIS_URL: cfg.redisUrl,
    ADMIN_CLIENT_ID: cfg.adminId,
    ADMIN_CLIENT_SECRET: cfg.adminSecret,
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    MAX_QUEUE_BACKLOG: String(cfg.maxBacklog),
    ...cfg.serviceEnv,
  };
  for (const k of Object.keys(process.env)) if (k.startsWith('BENCH_')) delete serviceEnv[k];
  const nodeFlags = [...cfg.nodeFlags];
  // Probes written in TypeScript (bench/probes/*.ts, BENCH_NODE_FLAGS="--require ./bench/probes/x.ts")
  // load through tsx's hook; the service itself is the compiled JavaScript either way.
  if (nodeFlags.some((f) => f.endsWith('.ts'))) nodeFlags.unshift('--require', TSX_REQUIRE);
  if (cfg.profile) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    // SIGUSR2 -> process.exit(0): --cpu-prof only writes its file on a normal exit, and Nest's SIGTERM hook
    // re-raises the signal after closing. The data: URL keeps the service code untouched.
    nodeFlags.push(
      '--cpu-prof',
      `--cpu-prof-dir=${PROFILE_DIR}`,
      '--import',
      'data:text/javascript,process.on("SIGUSR2",()=>process.exit(0))',
    );
  }
  return startService({
    entry: join(BUILD_DIR, 'main.js'),
    port,
    env: serviceEnv,
    nodeFlags,
    logPath: join(OUT_DIR, cfg.profile ? 'service-profile.log' : 'service.log'),
  });
}

export async function authenticate(
  base: string,
): Promise<{ token: string; segmentAuth: string; clientId: string; adminToken: string }> {
  const admin = await httpJson<TokenResponseDto>('POST', `${base}/v1/auth/token`, {
    client_id: cfg.adminId,
    client_secret: cfg.adminSecret,
  });
  if (admin.status !== 200) throw new Error(`admin token: ${admin.status} ${JSON.stringify(admin.body)}`);
  const created = await httpJson<CreatedClientDto>(
    'POST',
    `${base}/v1/clients`,
    { name: `bench ${new Date().toISOString()}`, scopes: ['events:write'] },
    admin.body.access_token,
  );
  if (created.status !== 201)
    throw new Error(`register client: ${created.status} ${JSON.stringify(created.body)}`);
  const tok = await httpJson<TokenResponseDto>('POST', `${base}/v1/auth/token`, {
    client_id: created.body.client_id,
    client_secret: created.body.client_secret,
  });
  if (tok.status !== 200) throw new Error(`client token: ${tok.status} ${JSON.stringify(tok.body)}`);
  const key = await httpJson<WriteKeyDto>(
    'POST',
    `${base}/v1/clients/${created.body.client_id}/write-keys`,
    {},
    admin.body.access_token,
  );
  if (key.status !== 201) throw new Error(`write key: ${key.status} ${JSON.stringify(key.body)}`);
  return {
    token: tok.body.access_token,
    // Segment SDKs send the write key as HTTP Basic user name with an empty password.
    segmentAuth: `Basic ${Buffer.from(`${key.body.write_key}:`).toString('base64')}`,
    clientId: created.body.client_id,
    adminToken: admin.body.access_token,
  };
}

/** One request of each kind, checked by hand before any load: a bench of 400s measures nothing. */
export async function sanityCheck(ctx: BenchContext): Promise<void> {
  const { singleBody, batchBody, segmentBatchBody } = payloads;
  const one = await httpJson('POST', `${ctx.base}/v1/events`, JSON.parse(singleBody()), ctx.token);
  if (one.status !== 202)
    throw new Error(`POST /v1/events answered ${one.status}: ${JSON.stringify(one.body)}`);
  const many = await httpJson<{ accepted?: number }>(
    'POST',
    `${ctx.base}/v1/events/batch`,
    JSON.parse(batchBody()),
    ctx.token,
  );
  if (many.status !== 202 || many.body.accepted !== cfg.batchSize) {
    throw new Error(
      `POST /v1/events/batch answered ${many.status}: ${JSON.stringify(many.body).slice(0, 500)}`,
    );
  }
  const seg = await httpJson<{ success?: boolean }>(
    'POST',
    `${ctx.base}/v1/batch`,
    JSON.parse(segmentBatchBody()),
    undefined,
    undefined,
    { authorization: ctx.segmentAuth! },
  );
  if (seg.status !== 200 || seg.body.success !== true)
    throw new Error(`POST /v1/batch answered ${seg.status}: ${JSON.stringify(seg.body).slice(0, 500)}`);
}

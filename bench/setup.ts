// Before any phase: the service built into dist-bench/ and started on fresh stores, a writer client
// with its token and Segment write key, and one checked request of each kind.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { BUILD_DIR, OUT_DIR, PROFILE_DIR, cfg, log } from './config';
import {
  type AdminCredentials,
  clientToken,
  issueWriteKey,
  registerClient,
  storesEnv,
  writeKeyAuth,
} from './lib/clients';
import { httpJson } from './lib/http';
import { ROOT, type Service, TSX_REQUIRE, dropBenchDatabase, startService } from './lib/service';
import { payloads } from './phases';
import type { BenchContext } from './sampling';

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

/** The bootstrap admin: a local run makes its secret up, bench.ts refuses BENCH_URL without one. */
function admin(): AdminCredentials {
  if (!cfg.adminSecret) throw new Error('no admin secret: set BENCH_ADMIN_SECRET');
  return { id: cfg.adminId, secret: cfg.adminSecret };
}

export async function startBenchService(port: number): Promise<Service> {
  const serviceEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    ...storesEnv(cfg.databaseUrl, cfg.redisUrl, admin()),
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
  const { id, secret } = admin();
  const adminToken = await clientToken(base, id, secret);
  const created = await registerClient(base, adminToken, `bench ${new Date().toISOString()}`);
  return {
    token: await clientToken(base, created.client_id, created.client_secret),
    segmentAuth: writeKeyAuth(await issueWriteKey(base, adminToken, created.client_id)),
    clientId: created.client_id,
    adminToken,
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

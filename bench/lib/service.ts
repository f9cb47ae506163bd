// The harness every measuring tool shares (npm run bench, npm run bench:client, scripts/latency.ts):
// a free loopback port, the compiled service started on it with the node flags of `npm start`, a
// wait until it answers, and children that never outlive the tool.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = resolve(__dirname, '..', '..');

/** `--import` value that lets a child node process load TypeScript (tsx's loader, by absolute URL). */
export const TSX_IMPORT = pathToFileURL(require.resolve('tsx')).href;
/** `--require` value that registers tsx's CommonJS hook (for `--require x.ts` flags, loaded before any `--import`). */
export const TSX_REQUIRE = require.resolve('tsx/cjs');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolvePort(port));
    });
  });
}

/** The node flags of `npm start` (its heap cap and GC settings): the service runs as in production. */
export function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  return (/^node\s+(.*?)\s*dist\/main\.js/.exec(pkg.scripts.start)?.[1] ?? '').split(/\s+/).filter(Boolean);
}

// ------------------------------------------------------------------------------------ children
const children = new Set<ChildProcess>();

/** Keeps `child` in the set killed when this process exits or is interrupted. */
export function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Signals `child` and waits for it to exit, with SIGKILL after `graceMs`. */
export async function stopChild(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 15_000,
): Promise<void> {
  if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const pid = child.pid;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, graceMs);
  await exited;
  clearTimeout(t);
}

let cleaningUp = false;
/** Stops every tracked child (SIGTERM, then SIGKILL after `graceMs`). */
export async function cleanup(graceMs = 8_000): Promise<void> {
  if (cleaningUp) return;
  cleaningUp = true;
  await Promise.all([...children].map((c) => stopChild(c, 'SIGTERM', graceMs)));
}

let handlersInstalled = false;
/** On exit every child is killed; on SIGINT/SIGTERM/SIGHUP they are stopped first, then exit 130. */
export function killChildrenOnExit(log: (message: string) => void): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const c of children) {
      try {
        if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      log(`${sig}: stopping children`);
      void cleanup().finally(() => process.exit(130));
    });
  }
}

// ------------------------------------------------------------------------------------ service
export interface ServiceOptions {
  /** The compiled entry point, relative to ROOT (dist/main.js, dist-bench/main.js). */
  entry: string;
  port: number;
  /** The service's whole environment (nothing is inherited unless the caller spreads process.env). */
  env: NodeJS.ProcessEnv;
  /** Flags after those of `npm start`. */
  nodeFlags?: string[];
  /** Where its stdout and stderr go; inherited when absent. */
  logPath?: string;
  /** The path polled until it answers 200 (/health, or /ready for a worker that must be up). */
  readyPath?: string;
  timeoutMs?: number;
}

export interface Service {
  child: ChildProcess;
  base: string;
  logPath?: string;
}

function tail(file: string | undefined, n = 30): string {
  if (!file) return '';
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** Starts the compiled service on 127.0.0.1:`port` and resolves once `readyPath` answers 200. */
export async function startService(o: ServiceOptions): Promise<Service> {
  const logFd = o.logPath ? openSync(o.logPath, 'w') : undefined;
  const args = [...startFlags(), ...(o.nodeFlags ?? []), join(ROOT, o.entry)];
  const child = track(
    spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...o.env, HOST: '127.0.0.1', PORT: String(o.port) },
      stdio: logFd === undefined ? ['ignore', 'inherit', 'inherit'] : ['ignore', logFd, logFd],
    }),
  );
  if (logFd !== undefined) closeSync(logFd);
  const base = `http://127.0.0.1:${o.port}`;
  const timeoutMs = o.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  const where = o.logPath ? `; see ${o.logPath}:\n${tail(o.logPath)}` : '';
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}${where}`);
    const ok = await fetch(`${base}${o.readyPath ?? '/health'}`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { child, base, logPath: o.logPath };
    if (Date.now() > deadline)
      throw new Error(
        `service not ready after ${timeoutMs / 1000} s${o.logPath ? `; see ${o.logPath}:\n${tail(o.logPath)}` : ''}`,
      );
    await sleep(250);
  }
}

/** Drops the database of `databaseUrl` (bench databases only) so the service creates it afresh. */
export async function dropBenchDatabase(databaseUrl: string): Promise<void> {
  const { Client } = await import('pg');
  const u = new URL(databaseUrl);
  const dbName = decodeURIComponent(u.pathname.slice(1));
  if (!/^the_eye_bench[a-z0-9_]*$/.test(dbName))
    throw new Error(`refusing to drop database "${dbName}": not a bench database`);
  u.pathname = '/postgres';
  const admin = new Client({ connectionString: u.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

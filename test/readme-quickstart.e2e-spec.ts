// The README's "First steps", run as written against a fresh service: a new database, a private
// Redis, no ADMIN_CLIENT_* (so the service generates the admin and prints its secret, as on a
// newcomer's first start), stdout to a log file (not a terminal: the JSON line the README greps).
// The fenced `sh` blocks of that section run in order in ONE bash session, so variables carry
// from block to block as they do in a reader's terminal. Only two things are substituted: the
// service's address for http://localhost:3000 and the printed secret for its placeholder.
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { QUEUED_EVENTS_KEY } from '../src/queue/queue.contract';
import { waitFor } from './helpers/app';
import { TEST_DATABASE_URL } from './helpers/env';
import { spawnService, type ServiceProcess } from './helpers/process';
import { RedisServer } from './helpers/redis-server';
import type { BatchResponseDto } from './helpers/wire';

const README = join(__dirname, '..', 'README.md');
const SECTION = '## First steps';
const README_URL = 'http://localhost:3000';
const SECRET_PLACEHOLDER = '<printed secret>';

/** The fenced ```sh blocks of one `## ` section of a Markdown text, in order. */
export function shBlocks(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no "${heading}" section`);
  const rest = markdown.slice(start + heading.length + 2);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** The JSON documents printed one after another (compact or pretty), skipping anything else. */
function jsonDocuments(text: string): unknown[] {
  const docs: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"' && depth > 0) inString = true;
    else if (c === '{' || c === '[') {
      if (depth++ === 0) start = i;
    } else if ((c === '}' || c === ']') && depth > 0 && --depth === 0) {
      docs.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return docs;
}

/** One bash session fed block by block, like a reader pasting into a terminal. */
class Shell {
  private out = '';
  private err = '';
  private readonly bash: ChildProcessWithoutNullStreams;
  private exited = false;

  constructor(cwd: string) {
    this.bash = spawn('bash', ['--noprofile', '--norc'], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, LANG: 'C.UTF-8' },
    });
    this.bash.stdout.on('data', (d: Buffer) => (this.out += d.toString()));
    this.bash.stderr.on('data', (d: Buffer) => (this.err += d.toString()));
    this.bash.on('exit', () => (this.exited = true));
    // Stop at the first failing command, and make curl fail on an HTTP error status (the README
    // leaves -f out so that a reader sees the error's body; here a 4xx or 5xx must stop the run).
    this.bash.stdin.write('set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n');
  }

  /** Runs `script`; resolves with what it printed; rejects when a command of it failed. */
  async run(script: string, n: number): Promise<string> {
    const from = this.out.length;
    const marker = `@@block ${n} done@@`;
    this.bash.stdin.write(`${script}\nprintf '\\n%s\\n' '${marker}'\n`);
    await waitFor(
      () => {
        if (this.out.includes(marker, from)) return Promise.resolve(true);
        if (this.exited)
          throw new Error(
            `README block ${n} failed:\n${script}\nstdout:\n${this.out.slice(from)}\nstderr:\n${this.err}`,
          );
        return Promise.resolve(false);
      },
      30_000,
      `README block ${n}`,
    );
    return this.out.slice(from, this.out.indexOf(marker, from));
  }

  /** The value of a shell variable of the session. */
  async variable(name: string, n: number): Promise<string> {
    return (await this.run(`printf '%s' "\${${name}-}"`, n)).trim();
  }

  close(): void {
    if (!this.exited) this.bash.kill('SIGKILL');
  }
}

describe('README quick start (e2e, a fresh service)', () => {
  const dbUrl = new URL(TEST_DATABASE_URL);
  dbUrl.pathname = `${dbUrl.pathname}_readme`;
  const dbName = dbUrl.pathname.slice(1);
  let redis: RedisServer;
  let service: ServiceProcess | undefined;
  let shell: Shell | undefined;
  let dir: string;

  async function dropDatabase(): Promise<void> {
    const admin = new URL(TEST_DATABASE_URL);
    admin.pathname = '/postgres';
    const db = new Client({ connectionString: admin.toString() });
    await db.connect();
    try {
      await db.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    } finally {
      await db.end();
    }
  }

  beforeAll(async () => {
    for (const tool of ['bash', 'curl', 'jq', 'grep', 'cut']) {
      try {
        execFileSync('sh', ['-c', `command -v ${tool}`]);
      } catch {
        throw new Error(`the README's first steps need ${tool}: install it (.ci/run installs jq)`);
      }
    }
    dir = mkdtempSync(join(tmpdir(), 'the-eye-readme-'));
    await dropDatabase();
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    shell?.close();
    await service?.stop();
    await redis?.stop();
    await dropDatabase();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every sh block of "First steps" as written: the first event is stored and the queries find it', async () => {
    const blocks = shBlocks(readFileSync(README, 'utf8'), SECTION);
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const all = blocks.join('\n');
    expect(all).toContain(README_URL);
    expect(all.split(SECRET_PLACEHOLDER)).toHaveLength(2);

    service = await spawnService({
      NODE_ENV: 'development',
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: redis.url,
      ADMIN_CLIENT_ID: undefined,
      ADMIN_CLIENT_SECRET: undefined,
      JWT_SECRET: undefined,
    });
    // The log a reader would have written with `npm start > the-eye.log`.
    writeFileSync(join(dir, 'the-eye.log'), service.output());
    const secret = /created admin client \\?"admin\\?" with secret ([A-Za-z0-9_-]+)/.exec(
      service.output(),
    )?.[1];
    expect(secret).toBeDefined();

    const queue = new Redis(redis.url);
    const drained = () =>
      waitFor(
        async () => (await queue.hlen(QUEUED_EVENTS_KEY)) === 0,
        20_000,
        'the queued events to be stored',
      );
    shell = new Shell(dir);
    const outputs: string[] = [];
    try {
      for (const [i, block] of blocks.entries()) {
        const script = block.replaceAll(README_URL, service.url).replace(SECRET_PLACEHOLDER, secret ?? '');
        // Each way of finding the secret must find it on its own.
        const setsSecret = /^ADMIN_SECRET=/m.test(script);
        if (setsSecret) await shell.run('unset ADMIN_SECRET', i);
        outputs.push(await shell.run(script, i));
        if (setsSecret) expect(await shell.variable('ADMIN_SECRET', i)).toBe(secret);
        // A reader takes longer than the worker between two steps.
        await drained();
      }
      const eventId = await shell.variable('EVENT_ID', blocks.length);
      expect(eventId).toMatch(/^[0-9a-f-]{36}$/);

      // The batch: every event accepted.
      const batch = outputs
        .flatMap(jsonDocuments)
        .find((d) => typeof d === 'object' && d !== null && 'accepted' in d) as BatchResponseDto | undefined;
      expect(batch).toMatchObject({ rejected: 0 });
      expect(batch?.accepted).toBeGreaterThan(0);

      // The last block: the first event's status, then the queries.
      const [status, session, ...rest] = jsonDocuments(outputs[outputs.length - 1]) as any[];
      expect(status).toMatchObject({ id: eventId, status: 'stored' });
      expect(session.next_cursor).toBeNull();
      expect(session.data).toHaveLength(1 + (batch?.accepted ?? 0));
      expect(session.data[0]).toMatchObject({ id: eventId, timestamp: '2021-01-01T09:15:27.243860Z' });
      const stats = rest.find((d) => Array.isArray(d?.data));
      const counted = (stats?.data as { count: number }[] | undefined)?.reduce((sum, b) => sum + b.count, 0);
      expect(counted).toBe(session.data.length);

      const db = new Client({ connectionString: dbUrl.toString() });
      await db.connect();
      try {
        const stored = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
        const quarantined = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM rejected_events');
        expect({ stored: stored.rows[0].n, quarantined: quarantined.rows[0].n }).toEqual({
          stored: session.data.length,
          quarantined: 0,
        });
      } finally {
        await db.end();
      }
    } finally {
      queue.disconnect();
    }
  });
});

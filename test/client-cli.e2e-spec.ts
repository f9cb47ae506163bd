// The `eye` CLI (packages/client/dist/cli.js, built by `npm test`'s pretest) against the real service.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, registerClient, startApp, type TestApp, type TestClient, waitFor } from './helpers/app';
import { withDb } from './helpers/db';

const CLI = join(__dirname, '..', 'packages', 'client', 'dist', 'cli.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function eye(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

describe('eye CLI (e2e)', () => {
  let t: TestApp;
  let writer: TestClient;
  let reader: TestClient;
  let dir: string;
  const envOf = (c: TestClient) => ({
    EYE_URL: t.url,
    EYE_CLIENT_ID: c.clientId,
    EYE_CLIENT_SECRET: c.secret,
  });

  beforeAll(async () => {
    t = await startApp();
    writer = await registerClient(t.url, ['events:write'], 'cli writer');
    reader = await registerClient(t.url, ['events:read'], 'cli reader');
    dir = mkdtempSync(join(tmpdir(), 'eye-cli-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  const countStored = (name: string) =>
    withDb(async (db) => {
      const res = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM events WHERE client_id = $1 AND category = 'cli' AND name = $2`,
        [writer.clientId, name],
      );
      return Number(res.rows[0].n);
    });

  it('eye send: skips and reports bad lines by number, sends every other line', async () => {
    const session = randomUUID();
    const line = (i: number) =>
      JSON.stringify({
        session_id: session,
        category: 'cli',
        name: 'send',
        data: { i },
        timestamp: new Date().toISOString(),
      });
    const lines: string[] = [];
    for (let i = 1; i <= 2500; i++) lines.push(line(i));
    lines[99] = '{"session_id": "broken'; // line 100: not JSON
    lines[199] = '[1, 2, 3]'; // line 200: not an object
    lines[299] = ''; // line 300: blank, ignored
    lines[399] = JSON.stringify({ category: 'cli', name: 'send', data: {}, timestamp: '2021-01-01' }); // line 400: refused by the server
    lines[499] = JSON.stringify({ session_id: session, category: 'cli', name: 'send', data: {} }); // line 500: no timestamp
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, lines.join('\r\n') + '\n');

    const run = await eye.call(null, ['send', file, '--batch-size', '300'], envOf(writer)).done;

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^line 100: skipped, not JSON/m);
    expect(run.stderr).toMatch(/^line 200: skipped, not a JSON object/m);
    expect(run.stderr).toMatch(/^line 400: rejected by the server: \/session_id is required/m);
    expect(run.stderr).toMatch(/^line 500: rejected: \/timestamp is required \(--default-timestamp now/m);
    expect(run.stderr).not.toMatch(/line 300/);
    expect(run.stdout).toMatch(/^2,500 lines: 2,495 queued, 2 rejected, 2 bad lines skipped, 0 not sent;/);
    expect(run.stdout).not.toMatch(/accepted|stored/);
    await waitFor(async () => (await countStored('send')) === 2495, 20_000, '2,495 stored events');
  });

  it('eye send: exit 0 when every line is stored, exit 2 on a missing file or credentials', async () => {
    const session = randomUUID();
    const file = join(dir, 'ok.ndjson');
    writeFileSync(
      file,
      [1, 2, 3]
        .map((i) =>
          JSON.stringify({
            session_id: session,
            category: 'cli',
            name: 'ok',
            data: { i },
            timestamp: '2021-01-01T00:00:00Z',
          }),
        )
        .join('\n'),
    );
    const ok = await eye(['send', file], envOf(writer)).done;
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    await waitFor(async () => (await countStored('ok')) === 3, 20_000, '3 stored events');

    const missing = await eye(['send', join(dir, 'nope.ndjson')], envOf(writer)).done;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read/);
    const noCreds = await eye(['send', file], { EYE_URL: t.url }).done;
    expect(noCreds.code).toBe(2);
    expect(noCreds.stderr).toMatch(/EYE_CLIENT_ID/);
  });

  it('eye send: refuses lines without a timestamp (backfills), stamps them at "now" only when asked', async () => {
    const session = randomUUID();
    const file = join(dir, 'untimed.ndjson');
    writeFileSync(
      file,
      [1, 2, 3]
        .map((i) => JSON.stringify({ session_id: session, category: 'cli', name: 'untimed', data: { i } }))
        .join('\n'),
    );
    const refused = await eye(['send', file], envOf(writer)).done;
    expect(refused.code).toBe(1);
    expect(refused.stderr.match(/^line [123]: rejected: \/timestamp is required/gm)).toHaveLength(3);
    expect(refused.stdout).toMatch(/^3 lines: 0 queued, 3 rejected/);
    expect(await countStored('untimed')).toBe(0);

    const before = Date.now();
    const stamped = await eye(['send', file, '--default-timestamp', 'now', '--wait'], envOf(writer)).done;
    expect(stamped.stderr).toBe('');
    expect(stamped.code).toBe(0);
    expect(stamped.stdout).toMatch(/3 queued: 3 stored, 0 rejected/);
    const times = await withDb(async (db) =>
      (
        await db.query<{ t: Date }>(
          `SELECT timestamp AS t FROM events WHERE client_id = $1 AND category = 'cli' AND name = 'untimed'`,
          [writer.clientId],
        )
      ).rows.map((r) => r.t.getTime()),
    );
    expect(times).toHaveLength(3);
    for (const t of times) expect(t).toBeGreaterThanOrEqual(before - 1000);

    const bad = await eye(['send', file, '--default-timestamp', 'yesterday'], envOf(writer)).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--default-timestamp/);
  });

  it('eye send --wait: waits for each verdict and reports stored / rejected with reasons', async () => {
    const session = randomUUID();
    const ts = new Date().toISOString();
    const pageview = (path: unknown) => ({
      session_id: session,
      category: 'page interaction',
      name: 'pageview',
      data: { host: 'cli.example', path },
      timestamp: ts,
    });
    const lines = [
      pageview('/a'),
      pageview(42), // line 2: breaks the pageview schema → quarantined by the worker
      pageview('/b'),
      { ...pageview('/c'), timestamp: new Date(Date.now() + 3_600_000).toISOString() }, // line 4: future
      pageview('/d'),
    ].map((e) => JSON.stringify(e));
    const file = join(dir, 'verdicts.ndjson');
    writeFileSync(file, lines.join('\n') + '\n');

    const run = await eye(['send', file, '--wait'], envOf(writer)).done;

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^5 lines: 5 queued, 0 rejected, 0 bad lines skipped, 0 not sent;.*\n5 queued: 3 stored, 2 rejected/,
    );
    expect(run.stderr).toMatch(/^line 2: rejected by the worker: payload_invalid \/data\/path/m);
    expect(run.stderr).toMatch(/^line 4: rejected by the worker: timestamp_in_future/m);
    expect(run.stderr.trim().split('\n')).toHaveLength(2);
  });

  it('eye send: stops at once with exit 1 when the credentials are refused', async () => {
    const file = join(dir, 'refused.ndjson');
    writeFileSync(
      file,
      JSON.stringify({
        session_id: 's',
        category: 'cli',
        name: 'x',
        data: {},
        timestamp: '2021-01-01T00:00:00Z',
      }) + '\n',
    );
    const run = await eye(['send', file], { ...envOf(writer), EYE_CLIENT_SECRET: 'wrong-secret-000000' })
      .done;
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/token request answered 401/);
  });

  it('eye token: prints a token the API accepts', async () => {
    const run = await eye(['token'], envOf(reader)).done;
    expect(run.code).toBe(0);
    const res = await http(`${t.url}/v1/events?limit=1`, { token: run.stdout.trim() });
    expect(res.status).toBe(200);
  });

  it('eye tail: prints each newly stored event of the type once', async () => {
    const name = `tail-${randomUUID().slice(0, 8)}`;
    const tail = eye(['tail', '--category', 'cli', '--name', name, '--interval-ms', '200'], envOf(reader));
    let printed: { id: string; name: string }[] = [];
    let out = '';
    tail.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await new Promise((r) => setTimeout(r, 500));
      const session = randomUUID();
      const ids: string[] = [];
      for (let round = 0; round < 3; round++) {
        const events = [0, 1].map((i) => ({
          session_id: session,
          category: 'cli',
          name,
          data: { round, i },
          timestamp: new Date().toISOString(),
        }));
        const other = { ...events[0], name: 'not-tailed' };
        const res = await http(`${t.url}/v1/events/batch`, {
          token: writer.token,
          json: { events: [...events, other] },
        });
        ids.push(...res.body.results.slice(0, 2).map((r: { id: string }) => r.id));
        await new Promise((r) => setTimeout(r, 400));
      }
      const parse = () =>
        out
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { id: string; name: string });
      await waitFor(() => Promise.resolve(parse().length >= ids.length), 20_000, 'tailed events');
      await new Promise((r) => setTimeout(r, 600)); // a few more polls: nothing printed twice
      printed = parse();
      expect(printed.map((e) => e.id).sort()).toEqual([...ids].sort());
      expect(new Set(printed.map((e) => e.name))).toEqual(new Set([name]));
    } finally {
      tail.child.kill('SIGINT');
      expect((await tail.done).code).toBe(0);
    }
  });
});

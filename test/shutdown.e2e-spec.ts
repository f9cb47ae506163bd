import { randomUUID } from 'node:crypto';
import { http, registerClient, waitFor } from './helpers/app';
import Redis from 'ioredis';
import { QUEUED_EVENTS_KEY, queuedField } from '../src/queue/queue.contract';
import { waitProcessed, withDb } from './helpers/db';
import { TEST_REDIS_URL } from './helpers/env';
import { spawnService, type ServiceProcess } from './helpers/process';
import type { BatchResponseDto } from './helpers/wire';

// Runs the built service (`node dist/main.js`, built by `npm test`'s pretest) as a real process.

const EXIT_DEADLINE_MS = 15_000;

/** SIGTERM, then the exit code and how long the process took to exit (fails after the deadline). */
async function terminate(svc: ServiceProcess): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      svc.child.kill('SIGKILL');
      reject(new Error(`no exit ${EXIT_DEADLINE_MS} ms after SIGTERM; output:\n${svc.output()}`));
    }, EXIT_DEADLINE_MS);
  });
  try {
    const code = await Promise.race([svc.stop('SIGTERM'), deadline]);
    return { code, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

async function answersHealth(url: string): Promise<boolean> {
  return fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) }).then(
    () => true,
    () => false,
  );
}

function pageviews(n: number, sessionId: string): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    session_id: sessionId,
    category: 'page interaction',
    name: 'pageview',
    data: { host: 'shutdown.test', path: `/${i}` },
    timestamp: new Date().toISOString(),
  }));
}

describe('graceful shutdown (e2e, real process)', () => {
  let svc: ServiceProcess | undefined;
  afterEach(() => {
    if (svc && svc.child.exitCode === null) svc.child.kill('SIGKILL');
    svc = undefined;
  });

  it('exits 0 within a few seconds of SIGTERM and stops answering', async () => {
    svc = await spawnService();
    expect(await answersHealth(svc.url)).toBe(true);
    const { code, ms } = await terminate(svc);
    expect({ code, output: code === 0 ? '' : svc.output() }).toEqual({ code: 0, output: '' });
    expect(ms).toBeLessThan(5_000);
    expect(await answersHealth(svc.url)).toBe(false);
  });

  it('drains on SIGTERM: in-flight jobs commit, the rest stays queued, nothing accepted is lost', async () => {
    svc = await spawnService();
    const writer = await registerClient(svc.url, ['events:write'], 'shutdown writer');
    const sessionId = randomUUID();
    const accepted: string[] = [];
    /** Posts one batch; false once the service refuses (closing or closed). */
    const post = async (): Promise<boolean> => {
      const res = await http<BatchResponseDto>(`${svc!.url}/v1/events/batch`, {
        token: writer.token,
        json: { events: pageviews(200, sessionId) },
      }).catch(() => undefined); // connection refused once the server has closed
      if (res?.status !== 202) return false;
      for (const r of res.body.results) if (r.status === 'queued' && r.id) accepted.push(r.id);
      return true;
    };
    // Four writers post batches back to back; SIGTERM lands while they are still posting, so
    // some accepted events are still queued (and some requests in flight) when it arrives.
    const writers = Array.from({ length: 4 }, async () => {
      while (await post());
    });
    await waitFor(() => Promise.resolve(accepted.length >= 4_000), 20_000, '4,000 accepted events');
    const { code } = await terminate(svc);
    await Promise.all(writers);
    expect({ code, output: code === 0 ? '' : svc.output() }).toEqual({ code: 0, output: '' });
    expect(await answersHealth(svc.url)).toBe(false);

    // Nothing half-done: every accepted event is either stored or still queued for the next worker.
    const storedIds = async (): Promise<Set<string>> =>
      withDb(async (db) => {
        const res = await db.query<{ id: string }>(
          'SELECT id::text AS id FROM events WHERE id = ANY($1::uuid[])',
          [accepted],
        );
        return new Set(res.rows.map((r) => r.id));
      });
    const stored = await storedIds();
    const redis = new Redis(TEST_REDIS_URL);
    const queued = await redis.hmget(
      QUEUED_EVENTS_KEY,
      ...accepted.map((id) => queuedField(id, writer.clientId)),
    );
    redis.disconnect();
    const lost = accepted.filter((id, i) => !stored.has(id) && queued[i] === null);
    expect({ accepted: accepted.length, lost: lost.length }).toEqual({ accepted: accepted.length, lost: 0 });

    // The next worker stores the rest.
    svc = await spawnService({ ROLE: 'worker' });
    await waitProcessed(accepted);
    expect((await storedIds()).size).toBe(accepted.length);
  });
});

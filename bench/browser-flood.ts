/**
 * A web page's public write key abused from one address (issue 23): 200 Segment page calls a second
 * from one address with one key, for 30 s, as the browser SDK sends them (text/plain, an Origin,
 * POST /v1/p), while another client sends native single events (POST /v1/events) at 50/s.
 * Reports what was answered (200 / 429 ...), what was stored, and the other client's ack latency.
 *
 *   npm run bench:browser        (builds dist/, then runs this file with tsx)
 *   FLOOD_RATE=200 FLOOD_SECONDS=30 OTHER_RATE=50 FLOOD_DATABASE_URL=… FLOOD_REDIS_URL=…
 *
 * The service (dist/, its defaults: RATE_LIMIT_EVENTS_PER_ADDRESS=50) runs in a child process, so
 * that the generator's own work does not share the service's event loop. It gets only the settings
 * below, none of this shell's: its limits are the defaults whatever the shell exports.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { admittedPerSecond, storedEvents } from './browser-flood.repository';
import { clientToken, issueWriteKey, registerClient, storesEnv, writeKeyAuth } from './lib/clients';
import { freePort, killChildrenOnExit, startService, stopChild } from './lib/service';
import { pace } from './pace';

const env = process.env;
const RATE = Number(env.FLOOD_RATE || 200);
const SECONDS = Number(env.FLOOD_SECONDS || 30);
const OTHER_RATE = Number(env.OTHER_RATE || 50);
const DATABASE_URL = env.FLOOD_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/the_eye_flood';
const REDIS_URL = env.FLOOD_REDIS_URL || 'redis://127.0.0.1:6379/14';
const ORIGIN = 'https://shop.example.com';
const ADMIN = { id: 'flood-admin', secret: 'flood-admin-secret-0123456789' };

type Counts = Record<string, number>;
const count = (o: Counts, k: string | number): void => {
  o[k] = (o[k] || 0) + 1;
};
/** What a failed fetch was: the socket error's code (ECONNRESET …) when there is one. */
const failure = (err: unknown): string => {
  const e = err as { cause?: { code?: string }; message?: string };
  return `error ${e.cause?.code ?? e.message}`;
};

async function main(): Promise<void> {
  killChildrenOnExit((message) => console.error(message));
  const service = await startService({
    entry: join('dist', 'main.js'),
    port: await freePort(),
    env: { NODE_ENV: 'test', ...storesEnv(DATABASE_URL, REDIS_URL, ADMIN), LOG_LEVEL: 'error' },
  });
  try {
    await flood(service.base);
  } finally {
    await stopChild(service.child);
  }
}

async function flood(url: string): Promise<void> {
  /** The measured requests: no timeout, the body read and dropped, only the status kept. */
  const post = async (path: string, body: string, headers: Record<string, string>): Promise<Response> => {
    const res = await fetch(`${url}${path}`, { method: 'POST', body, headers });
    await res.arrayBuffer();
    return res;
  };
  const admin = await clientToken(url, ADMIN.id, ADMIN.secret);
  const shop = await registerClient(url, admin, 'flooded shop');
  const other = await registerClient(url, admin, 'bystander');
  const otherToken = await clientToken(url, other.client_id, other.client_secret);
  const auth = writeKeyAuth(await issueWriteKey(url, admin, shop.client_id, [ORIGIN]));

  const codes: Counts = {};
  const otherCodes: Counts = {};
  const okBySecond: Counts = {};
  const otherLat: number[] = [];
  const pending: Promise<void>[] = [];
  const anonymousId = randomUUID();
  const run = (rate: number, fire: (scheduled: number) => void): Promise<void> =>
    new Promise((resolve) => pace(rate, SECONDS, fire, resolve));
  await Promise.all([
    // FLOOD_RATE=0: the other client alone, the baseline to compare its latency with.
    RATE === 0
      ? Promise.resolve()
      : run(RATE, () => {
          const body = JSON.stringify({
            type: 'page',
            name: 'Home',
            anonymousId,
            messageId: randomUUID(),
            timestamp: new Date().toISOString(),
            sentAt: new Date().toISOString(),
            properties: { path: '/', url: `${ORIGIN}/` },
          });
          pending.push(
            post('/v1/p', body, { 'content-type': 'text/plain', authorization: auth, origin: ORIGIN }).then(
              (r) => {
                count(codes, r.status);
                // When the service answered: a loaded service answers a second's flood over several.
                if (r.status === 200) count(okBySecond, Math.floor(Date.now() / 1000));
              },
              (err) => count(codes, failure(err)),
            ),
          );
        }),
    run(OTHER_RATE, (scheduled) => {
      const event = {
        id: randomUUID(),
        session_id: randomUUID(),
        category: 'page interaction',
        name: 'pageview',
        data: { host: 'example.com', path: '/' },
        timestamp: new Date().toISOString(),
      };
      pending.push(
        post('/v1/events', JSON.stringify(event), {
          'content-type': 'application/json',
          authorization: `Bearer ${otherToken}`,
        }).then(
          (r) => {
            otherLat.push(performance.now() - scheduled);
            count(otherCodes, r.status);
          },
          (err) => count(otherCodes, failure(err)),
        ),
      );
    }),
  ]);
  await Promise.all(pending);
  // Let the worker store what was accepted, then count it.
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  const accepted = codes[200] || 0;
  const deadline = Date.now() + 60_000;
  let stored = 0;
  while (Date.now() < deadline) {
    stored = await storedEvents(db, shop.client_id);
    if (stored >= accepted) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const perSecond = await admittedPerSecond(db, shop.client_id);
  await db.end();
  otherLat.sort((a, b) => a - b);
  const q = (p: number): number =>
    Math.round(otherLat[Math.min(otherLat.length - 1, Math.floor(p * otherLat.length))] * 10) / 10;
  console.log(
    JSON.stringify(
      {
        flood: {
          rate: RATE,
          seconds: SECONDS,
          sent: RATE * SECONDS,
          answers: codes,
          stored,
          max_200_answers_in_one_second: Math.max(0, ...Object.values(okBySecond)),
          max_stored_received_in_one_second: perSecond.max,
          seconds_with_stored_events: perSecond.seconds,
        },
        other_client: {
          rate: OTHER_RATE,
          answers: otherCodes,
          ack_ms: { p50: q(0.5), p99: q(0.99), max: q(1) },
        },
      },
      null,
      2,
    ),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

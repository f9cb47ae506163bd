/* eslint-disable */
'use strict';
/**
 * A web page's public write key abused from one address (issue 23): 200 Segment page calls a second
 * from one address with one key, for 30 s, as the browser SDK sends them (text/plain, an Origin,
 * POST /v1/p), while another client sends native single events (POST /v1/events) at 50/s.
 * Reports what was answered (200 / 429 ...), what was stored, and the other client's ack latency.
 *
 *   npm run build && node bench/browser-flood.js
 *   FLOOD_RATE=200 FLOOD_SECONDS=30 OTHER_RATE=50 FLOOD_DATABASE_URL=… FLOOD_REDIS_URL=…
 *
 * The service (dist/, its defaults: RATE_LIMIT_EVENTS_PER_ADDRESS=50) runs in a child process, so
 * that the generator's own work does not share the service's event loop.
 */
require('reflect-metadata');
const { randomUUID } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { pace } = require('./pace');

const env = process.env;
const RATE = Number(env.FLOOD_RATE || 200);
const SECONDS = Number(env.FLOOD_SECONDS || 30);
const OTHER_RATE = Number(env.OTHER_RATE || 50);
const ORIGIN = 'https://shop.example.com';
const count = (o, k) => (o[k] = (o[k] || 0) + 1);
const ADMIN = { id: 'flood-admin', secret: 'flood-admin-secret-0123456789' };

/** The child: the service, its URL sent to the parent once it listens. */
async function serve(databaseUrl) {
  const { createApp } = require('../dist/app.setup');
  const { loadConfig } = require('../dist/config/config');
  const { migrate } = require('../dist/prisma/migrator');
  await migrate(databaseUrl);
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: env.FLOOD_REDIS_URL || 'redis://127.0.0.1:6379/14',
    JWT_SECRET: 'flood-jwt-secret-0123456789-0123456789-abcdef',
    ADMIN_CLIENT_ID: ADMIN.id,
    ADMIN_CLIENT_SECRET: ADMIN.secret,
    LOG_LEVEL: 'error',
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  process.send({ url: `http://127.0.0.1:${app.getHttpServer().address().port}` });
  process.on('disconnect', () => void app.close().then(() => process.exit(0)));
}

async function main() {
  const databaseUrl = env.FLOOD_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/the_eye_flood';
  const child = require('node:child_process').fork(__filename, ['--serve'], { stdio: 'inherit' });
  const url = await new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.url));
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
  });

  const post = async (path, body, headers) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', body, headers });
    await res.arrayBuffer();
    return res;
  };
  const json = async (path, body, token) => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    return res.json();
  };
  const token = async (id, secret) =>
    (await json('/v1/auth/token', { client_id: id, client_secret: secret })).access_token;
  const admin = await token(ADMIN.id, ADMIN.secret);
  const shop = await json('/v1/clients', { name: 'flooded shop', scopes: ['events:write'] }, admin);
  const other = await json('/v1/clients', { name: 'bystander', scopes: ['events:write'] }, admin);
  const otherToken = await token(other.client_id, other.client_secret);
  const key = (await json(`/v1/clients/${shop.client_id}/write-keys`, { allowed_origins: [ORIGIN] }, admin))
    .write_key;
  const auth = `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

  const codes = {};
  const otherCodes = {};
  const okBySecond = {};
  const otherLat = [];
  const pending = [];
  const anonymousId = randomUUID();
  const run = (rate, fire) => new Promise((resolve) => pace(rate, SECONDS, fire, resolve));
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
              (err) => count(codes, `error ${err.cause?.code ?? err.message}`),
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
            otherCodes[r.status] = (otherCodes[r.status] || 0) + 1;
          },
          (err) => count(otherCodes, `error ${err.cause?.code ?? err.message}`),
        ),
      );
    }),
  ]);
  await Promise.all(pending);
  // Let the worker store what was accepted, then count it.
  const { Client } = require('pg');
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const accepted = codes[200] || 0;
  const deadline = Date.now() + 60_000;
  let stored = 0;
  while (Date.now() < deadline) {
    stored = (await db.query('SELECT count(*)::int AS n FROM events WHERE client_id = $1', [shop.client_id]))
      .rows[0].n;
    if (stored >= accepted) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  // Admitted per second as the service counted them (received_at is stamped as a request is let in).
  const perSecond = await db.query(
    `SELECT coalesce(max(n), 0)::int AS max, count(*)::int AS seconds FROM (
       SELECT count(*) AS n FROM events WHERE client_id = $1 GROUP BY date_trunc('second', received_at)) s`,
    [shop.client_id],
  );
  await db.end();
  otherLat.sort((a, b) => a - b);
  const q = (p) =>
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
          max_stored_received_in_one_second: perSecond.rows[0].max,
          seconds_with_stored_events: perSecond.rows[0].seconds,
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
  child.disconnect();
  process.exit(0);
}

if (process.argv[2] === '--serve') {
  serve(env.FLOOD_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/the_eye_flood').catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });

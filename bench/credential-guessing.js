#!/usr/bin/env node
// node bench/credential-guessing.js — the security figures of credential guessing (docs/security.md).
// Starts the built service (dist/, `npm run build` first) on a free port against DATABASE_URL /
// REDIS_URL (defaults: the_eye_guessing, Redis db 14, whose guessing counters it clears), then
// sends, from distinct loopback addresses (real TCP peers, 127.x.y.z):
//   1. 300 failed secrets at distinct ids with rotating X-Forwarded-For, while the owner of a
//      client asks for a token from its own address every 30 failures;
//   2. 200 concurrent guesses at one client id (how many were hashed = answered 401);
//   3. a legitimate token request alone, then under 400 rotating-address failures.
const { spawn } = require('node:child_process');
const { request } = require('node:http');
const { createServer } = require('node:net');
const { join } = require('node:path');

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/the_eye_guessing';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/14';
const ADMIN_ID = 'guessing-admin';
const ADMIN_SECRET = 'guessing-admin-secret-0123456789';

function post(url, from, json, headers = {}) {
  const body = JSON.stringify(json);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        localAddress: from,
        agent: false,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function freePort() {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function main() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'main.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      ROLE: 'api',
      DATABASE_URL,
      REDIS_URL,
      ADMIN_CLIENT_ID: ADMIN_ID,
      ADMIN_CLIENT_SECRET: ADMIN_SECRET,
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    for (let i = 0; ; i++) {
      const up = await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (i > 600) throw new Error('service did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const token = (from, id, secret, headers) =>
      post(`${base}/v1/auth/token`, from, { client_id: id, client_secret: secret }, headers);
    const admin = (await token('127.0.0.1', ADMIN_ID, ADMIN_SECRET)).body.access_token;
    const register = (name) =>
      fetch(`${base}/v1/clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, scopes: ['events:write'] }),
      }).then((r) => r.json());
    const owner = await register('guessing owner');
    const bystander = await register('guessing bystander');
    const run = Date.now().toString(36);

    // 1. 300 rotating-address failures; the owner every 30.
    let first429 = null;
    const ownerStatuses = [];
    for (let i = 0; i < 300; i++) {
      const res = await token('127.0.4.1', `${run}-rot-${i}`, 'nope', {
        'x-forwarded-for': `198.51.100.${i % 250}`,
      });
      if (res.status === 429 && first429 === null) first429 = i + 1;
      if (i % 30 === 29)
        ownerStatuses.push((await token('127.0.0.1', owner.client_id, owner.client_secret)).status);
    }
    console.log(`300 rotating-address failures: first 429 at attempt ${first429}`);
    console.log(`owner's token requests during them: ${ownerStatuses.join(' ')}`);

    // 2. 200 concurrent guesses at one id.
    const guesses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => token('127.0.4.2', owner.client_id, `guess-${i}`)),
    );
    const hashed = guesses.filter((r) => r.status === 401).length;
    const refused = guesses.filter((r) => r.status === 429).length;
    console.log(
      `200 concurrent guesses at one id: ${hashed} hashed (401), ${refused} refused before hashing (429)`,
    );
    console.log(
      `owner afterwards, from its address: ${(await token('127.0.0.1', owner.client_id, owner.client_secret)).status}`,
    );

    // 3. Legitimate latency, alone and under 400 rotating-address failures (a fresh address each).
    const timed = async (from) => {
      const t0 = performance.now();
      const res = await token(from, bystander.client_id, bystander.client_secret);
      return { ms: performance.now() - t0, status: res.status };
    };
    const alone = [];
    for (let i = 0; i < 5; i++) alone.push((await timed('127.0.0.1')).ms);
    alone.sort((a, b) => a - b);
    const flood = Array.from({ length: 400 }, (_, i) =>
      token('127.0.4.3', `${run}-flood-${i}-${'x'.repeat(64)}`, 'nope', {
        'x-forwarded-for': `203.0.113.${i % 250}`,
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const under = [];
    for (let i = 0; i < 5; i++) under.push(await timed('127.0.0.1'));
    const floodStatuses = await Promise.all(flood);
    const count = (s) => floodStatuses.filter((r) => r.status === s).length;
    console.log(`legitimate token alone: median ${alone[2].toFixed(0)} ms (of 5)`);
    console.log(
      `legitimate token under 400 rotating-address failures: ${under.map((u) => `${u.ms.toFixed(0)} ms (${u.status})`).join(', ')}; ` +
        `flood answered ${count(401)}×401, ${count(429)}×429`,
    );
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

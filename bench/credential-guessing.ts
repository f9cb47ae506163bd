// npm run bench:guessing — the security figures of credential guessing (docs/security.md).
// Starts the built service (dist/, `npm run build` first) on a free port against DATABASE_URL /
// REDIS_URL (defaults: the_eye_guessing, Redis db 14), then sends, from distinct loopback
// addresses (real TCP peers, 127.x.y.z):
//   1. 300 failed secrets at distinct ids with rotating X-Forwarded-For, while the owner of a
//      client asks for a token from its own address every 30 failures;
//   2. 200 concurrent guesses at one client id (how many were hashed = answered 401);
//   3. a legitimate token request alone, then under 400 rotating-address failures.
// The guessing counters live a minute in Redis: a second run within the minute starts with the
// first one's failures counted (wait, or clear that Redis database).
import { request } from 'node:http';
import { join } from 'node:path';
import type { TokenResponseDto } from '../src/auth/auth.dto';
import { clientToken, registerClient, storesEnv } from './lib/clients';
import { freePort, killChildrenOnExit, startService, stopChild } from './lib/service';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/the_eye_guessing';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/14';
const ADMIN = { id: 'guessing-admin', secret: 'guessing-admin-secret-0123456789' };

interface Answer<T = unknown> {
  status: number;
  body: T | undefined;
}

/**
 * A JSON POST from the loopback address `from`: the service sees it as the request's TCP peer, which
 * fetch cannot choose. A fresh connection each time (no agent), as a guesser's requests would be.
 */
function post<T>(
  url: string,
  from: string,
  json: unknown,
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
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
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as T) : undefined }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  killChildrenOnExit((message) => console.error(message));
  const service = await startService({
    entry: join('dist', 'main.js'),
    port: await freePort(),
    env: {
      ...process.env,
      ROLE: 'api',
      ...storesEnv(DATABASE_URL, REDIS_URL, ADMIN),
      LOG_LEVEL: 'error',
    },
    timeoutMs: 60_000,
  });
  const base = service.base;
  try {
    const token = (from: string, id: string, secret: string, headers?: Record<string, string>) =>
      post<TokenResponseDto>(
        `${base}/v1/auth/token`,
        from,
        { client_id: id, client_secret: secret },
        headers,
      );
    const admin = await clientToken(base, ADMIN.id, ADMIN.secret);
    const owner = await registerClient(base, admin, 'guessing owner');
    const bystander = await registerClient(base, admin, 'guessing bystander');
    const run = Date.now().toString(36);

    // 1. 300 rotating-address failures; the owner every 30.
    let first429: number | null = null;
    const ownerStatuses: number[] = [];
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
    const timed = async (from: string): Promise<{ ms: number; status: number }> => {
      const t0 = performance.now();
      const res = await token(from, bystander.client_id, bystander.client_secret);
      return { ms: performance.now() - t0, status: res.status };
    };
    const alone: number[] = [];
    for (let i = 0; i < 5; i++) alone.push((await timed('127.0.0.1')).ms);
    alone.sort((a, b) => a - b);
    const flood = Array.from({ length: 400 }, (_, i) =>
      token('127.0.4.3', `${run}-flood-${i}-${'x'.repeat(64)}`, 'nope', {
        'x-forwarded-for': `203.0.113.${i % 250}`,
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const under: { ms: number; status: number }[] = [];
    for (let i = 0; i < 5; i++) under.push(await timed('127.0.0.1'));
    const floodStatuses = await Promise.all(flood);
    const count = (s: number): number => floodStatuses.filter((r) => r.status === s).length;
    console.log(`legitimate token alone: median ${alone[2].toFixed(0)} ms (of 5)`);
    console.log(
      `legitimate token under 400 rotating-address failures: ${under.map((u) => `${u.ms.toFixed(0)} ms (${u.status})`).join(', ')}; ` +
        `flood answered ${count(401)}×401, ${count(429)}×429`,
    );
  } finally {
    await stopChild(service.child);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

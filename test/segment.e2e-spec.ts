import { randomUUID } from 'node:crypto';
import { Analytics } from '@segment/analytics-node';
import { eventIdOf } from '../src/segment/segment-mapping';
import { http, adminToken, registerClient, startApp, type TestApp, type TestClient } from './helpers/app';
import { storedCount, waitProcessed, withDb } from './helpers/db';
import { writeKeyHeaders } from './helpers/write-keys';
import { TEST_ADMIN_ID } from './helpers/env';
import type { EventPageDto, EventViewDto, WriteKeyDto } from './helpers/wire';

describe('Segment-compatible ingestion (e2e)', () => {
  let t: TestApp;
  let admin: string;
  let writer: TestClient;
  let reader: TestClient;
  let writeKey: string;

  const issueKey = (clientId: string, token = admin) =>
    http<WriteKeyDto>(`${t.url}/v1/clients/${clientId}/write-keys`, {
      method: 'POST',
      token,
    });
  const postSegment = (
    path: string,
    json: unknown,
    headers: Record<string, string> = writeKeyHeaders(writeKey),
  ) => http(`${t.url}${path}`, { json, headers });
  const sessionEvents = async (sid: string): Promise<EventViewDto[]> => {
    const res = await http<EventPageDto>(`${t.url}/v1/sessions/${sid}/events`, {
      token: reader.token,
    });
    expect(res.status).toBe(200);
    return res.body.data;
  };
  const quarantined = (id: string) =>
    withDb(async (db) => {
      const r = await db.query<{
        reasons: string[];
        errors: { path: string; message: string }[];
        raw: string;
      }>('SELECT reasons, errors, raw FROM rejected_events WHERE event_id = $1', [id]);
      return r.rows[0];
    });

  beforeAll(async () => {
    t = await startApp();
    admin = await adminToken(t.url);
    writer = await registerClient(t.url, ['events:write'], 'segment writer');
    reader = await registerClient(t.url, ['events:read'], 'segment reader');
    const res = await issueKey(writer.clientId);
    expect(res.status).toBe(201);
    writeKey = res.body.write_key;
  });
  afterAll(() => t.close());

  describe('write keys', () => {
    it('are issued once to an admin, for clients with events:write only, and stored hashed', async () => {
      const res = await issueKey(writer.clientId);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        client_id: writer.clientId,
        key_id: expect.stringMatching(/^key_[0-9a-f]{20}$/),
        write_key: expect.stringMatching(/^wk_[\w-]{43}$/),
        allowed_origins: [],
      });
      const stored = await withDb((db) =>
        db.query<{ key_hash: string }>('SELECT key_hash FROM write_keys WHERE client_id = $1', [
          writer.clientId,
        ]),
      );
      expect(stored.rows.length).toBe(2);
      expect(stored.rows.map((r) => r.key_hash)).not.toContain(res.body.write_key);

      const audit = await http<{ data: { actor_client_id: string; target: string; details: unknown }[] }>(
        `${t.url}/v1/audit-events?action=write_key.issued&limit=1000`,
        { token: admin },
      );
      expect(audit.status).toBe(200);
      const mine = audit.body.data.filter((e) => e.target === writer.clientId);
      expect(mine).toHaveLength(2);
      expect(mine[0].actor_client_id).toBe(TEST_ADMIN_ID);
      expect(JSON.stringify(audit.body)).not.toContain(res.body.write_key);
      expect(JSON.stringify(audit.body)).not.toContain(writeKey);

      expect((await issueKey(reader.clientId)).status).toBe(409);
      expect(((await issueKey(reader.clientId)).body as unknown as { message: string }).message).toMatch(
        /events:write/,
      );
      expect((await issueKey('cli_nobody')).status).toBe(404);
      expect((await issueKey(writer.clientId, writer.token)).status).toBe(403);
      expect(
        (await http(`${t.url}/v1/clients/${writer.clientId}/write-keys`, { method: 'POST' })).status,
      ).toBe(401);
    });

    it("refuses a bad key, no key, and a revoked client's key at once (401)", async () => {
      const msg = { type: 'track', event: 'x', anonymousId: randomUUID() };
      expect((await postSegment('/v1/batch', { batch: [msg] }, writeKeyHeaders('wk_nope'))).status).toBe(401);
      expect((await postSegment('/v1/batch', { batch: [msg] }, {})).status).toBe(401);
      expect((await postSegment('/v1/track', msg, { authorization: `Bearer ${writer.token}` })).status).toBe(
        401,
      );

      const doomed = await registerClient(t.url, ['events:write'], 'doomed');
      const key = (await issueKey(doomed.clientId)).body.write_key;
      expect((await postSegment('/v1/batch', { batch: [msg] }, writeKeyHeaders(key))).status).toBe(200);
      expect(
        (await http(`${t.url}/v1/clients/${doomed.clientId}`, { method: 'DELETE', token: admin })).status,
      ).toBe(200);
      const refused = await postSegment('/v1/batch', { batch: [msg] }, writeKeyHeaders(key));
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Basic/);
      expect((await postSegment('/v1/track', { ...msg, writeKey: key }, {})).status).toBe(401);
      expect((await issueKey(doomed.clientId)).status).toBe(409);
    });
  });

  it('the unmodified Segment SDK: track, page and identify stored exactly once, in their session, in order', async () => {
    const sid = randomUUID();
    const other = randomUUID();
    const bodies: string[] = [];
    const statuses: number[] = [];
    const analytics = new Analytics({
      writeKey,
      host: t.url,
      flushAt: 100,
      flushInterval: 60_000,
      maxRetries: 0,
    });
    analytics.on('http_request', (req) => bodies.push(req.body));
    analytics.on('http_response', (res) => statuses.push(res.status));
    // One second apart, an hour ago: the skew correction shifts all of them alike.
    const base = Date.now() - 3_600_000;
    const at = (i: number): Date => new Date(base + i * 1000);
    analytics.page({ anonymousId: sid, name: 'Home', properties: { path: '/' }, timestamp: at(0) });
    analytics.track({
      anonymousId: sid,
      event: 'Product Viewed',
      properties: { category: 'catalog', sku: 'A-1' },
      timestamp: at(1),
    });
    analytics.track({ anonymousId: other, event: 'Elsewhere', timestamp: at(1) });
    analytics.identify({ anonymousId: sid, userId: 'user-42', traits: { plan: 'pro' }, timestamp: at(2) });
    analytics.track({
      anonymousId: sid,
      event: 'Order Completed',
      properties: { total: 42.5 },
      timestamp: at(3),
    });
    analytics.page({ anonymousId: sid, timestamp: at(4) });
    await analytics.closeAndFlush({ timeout: 10_000 });

    expect(statuses).toEqual([200]);
    const sent = JSON.parse(bodies[0]) as {
      batch: { messageId: string }[];
      writeKey: string;
      sentAt: string;
    };
    expect(sent.writeKey).toBe(writeKey);
    const ids = sent.batch.map((m) => eventIdOf(writer.clientId, m.messageId));
    await waitProcessed(ids);

    const events = await sessionEvents(sid);
    expect(events.map((e) => [e.category, e.name])).toEqual([
      ['page', 'Home'],
      ['catalog', 'Product Viewed'],
      ['identify', 'identify'],
      ['track', 'Order Completed'],
      ['page', 'page'],
    ]);
    expect(events.map((e) => e.id)).toEqual([ids[0], ids[1], ids[3], ids[4], ids[5]]);
    expect(events[2].data).toMatchObject({ type: 'identify', userId: 'user-42', traits: { plan: 'pro' } });
    expect(events[1].data).toMatchObject({
      properties: { sku: 'A-1' },
      context: { library: { name: '@segment/analytics-node' } },
    });
    expect(JSON.stringify(events)).not.toContain(writeKey);
    // Skew-corrected: the SDK's clock is this machine's, so each stays within a second of its call.
    for (let i = 0; i < events.length; i++) {
      expect(Math.abs(Date.parse(events[i].timestamp) - at(i).getTime())).toBeLessThan(1_000);
    }
    expect((await sessionEvents(other)).map((e) => e.name)).toEqual(['Elsewhere']);

    // The same batch again (an SDK retry after a lost answer) is stored once.
    const retry = await http(`${t.url}/v1/batch`, {
      body: bodies[0],
      headers: { ...writeKeyHeaders(writeKey), 'content-type': 'application/json' },
    });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({ success: true });
    await waitProcessed(ids);
    expect(await storedCount(ids)).toBe(6);
    expect((await sessionEvents(sid)).length).toBe(5);
  });

  it('a batch with bad messages: 200, the good ones stored, the bad ones quarantined with their reasons', async () => {
    const sid = randomUUID();
    const now = new Date().toISOString();
    const before = new Date(Date.now() - 1000).toISOString();
    const batch = [
      { type: 'track', messageId: randomUUID(), event: 'Good 1', anonymousId: sid, timestamp: before },
      { type: 'track', messageId: randomUUID(), event: 'No session', timestamp: now },
      { type: 'track', messageId: randomUUID(), event: 'Bad time', anonymousId: sid, timestamp: 'yesterday' },
      {
        type: 'track',
        messageId: randomUUID(),
        event: 'Huge',
        anonymousId: sid,
        properties: { blob: 'x'.repeat(40_000) },
      },
      { type: 'track', messageId: randomUUID(), event: 'n'.repeat(101), anonymousId: sid },
      { type: 'track', messageId: randomUUID(), event: 'Good 2', anonymousId: sid, timestamp: now },
      // NUL in a payload is the message's problem (PostgreSQL cannot store it), not the request's.
      {
        type: 'track',
        messageId: randomUUID(),
        event: 'Nul',
        anonymousId: sid,
        properties: { q: 'a\u0000b' },
      },
    ];
    const res = await postSegment('/v1/batch', { batch, sentAt: now });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true });
    const ids = batch.map((m) => eventIdOf(writer.clientId, m.messageId));
    await waitProcessed(ids);
    expect((await sessionEvents(sid)).map((e) => e.name)).toEqual(['Good 1', 'Good 2']);

    const noSession = await quarantined(ids[1]);
    expect(noSession.reasons).toEqual(['envelope_invalid']);
    expect(noSession.errors[0].message).toMatch(/^no session/);
    expect((await quarantined(ids[2])).errors).toEqual([
      expect.objectContaining({ path: '/batch/2/timestamp' }),
    ]);
    const huge = await quarantined(ids[3]);
    expect(huge.reasons).toEqual(['message_too_large']);
    expect(huge.raw).toContain('x'.repeat(40_000));
    expect((await quarantined(ids[4])).errors).toEqual([
      expect.objectContaining({ path: '/batch/4/event', message: 'must be 1-100 characters long' }),
    ]);
    expect((await quarantined(ids[6])).reasons).toEqual(['payload_unstorable']);
    // Every quarantined row stays readable through the API.
    const list = await http(`${t.url}/v1/rejected-events?client_id=${writer.clientId}&limit=1000`, {
      token: reader.token,
    });
    expect(list.status).toBe(200);
  });

  it('HTTP Basic or writeKey in the body; the single-call routes; their names and categories', async () => {
    const sid = randomUUID();
    const t0 = Date.now() - 60_000;
    const msg = (i: number, extra: Record<string, unknown>) => ({
      messageId: randomUUID(),
      anonymousId: sid,
      timestamp: new Date(t0 + i * 1000).toISOString(),
      ...extra,
    });
    const calls: [string, Record<string, unknown>, Record<string, string>][] = [
      ['/v1/page', msg(0, { name: 'Pricing' }), writeKeyHeaders(writeKey)],
      ['/v1/screen', msg(1, { writeKey }), {}],
      ['/v1/track', msg(2, { event: 'Clicked', properties: { category: 'cta' }, writeKey }), {}],
      ['/v1/identify', msg(3, { userId: 'u-7', traits: { email: 'a@b.c' } }), writeKeyHeaders(writeKey)],
      ['/v1/batch', { batch: [{ type: 'track', ...msg(4, { event: 'Batched' }) }], writeKey }, {}],
    ];
    for (const [path, body, headers] of calls) {
      const res = await postSegment(path, body, headers);
      expect([path, res.status, res.body]).toEqual([path, 200, { success: true }]);
    }
    const ids = calls.map(([, body]) =>
      eventIdOf(
        writer.clientId,
        (body.messageId ?? (body.batch as { messageId: string }[])[0].messageId) as string,
      ),
    );
    await waitProcessed(ids);
    const events = await sessionEvents(sid);
    expect(events.map((e) => [e.category, e.name, e.data.type])).toEqual([
      ['page', 'Pricing', 'page'],
      ['screen', 'screen', 'screen'],
      ['cta', 'Clicked', 'track'],
      ['identify', 'identify', 'identify'],
      ['track', 'Batched', 'track'],
    ]);
    expect(events.some((e) => 'writeKey' in e.data)).toBe(false);
  });

  it("holds a write key to its client's rate limit: 429 with Retry-After in seconds, which the SDK waits out", async () => {
    const limited = await registerClient(t.url, ['events:write'], 'segment limited');
    const key = (await issueKey(limited.clientId)).body.write_key;
    const patched = await http(`${t.url}/v1/clients/${limited.clientId}`, {
      method: 'PATCH',
      token: admin,
      json: { rate_limit: 10 },
    });
    expect(patched.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300)); // the limit reaches the limiter through Redis
    const track = (sid: string) => ({ type: 'track', event: 'Limited', anonymousId: sid });

    // 8 of 10 per second: at most one such request passes in a second.
    let refused: Awaited<ReturnType<typeof postSegment>> | undefined;
    for (let i = 0; i < 5 && !refused; i++) {
      const res = await postSegment(
        '/v1/batch',
        { batch: Array.from({ length: 8 }, () => track('x')) },
        writeKeyHeaders(key),
      );
      if (res.status === 429) refused = res;
      else expect(res.status).toBe(200);
    }
    expect(refused?.status).toBe(429);
    // Delta-seconds: the SDK parseInt()s it (an HTTP date would make it wait 60 s).
    expect(refused?.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect([200, 429]).toContain((await postSegment('/v1/track', track('x'), writeKeyHeaders(key))).status);
    // More messages than a second allows can never pass: 413, which the SDK does not retry.
    const over = await postSegment(
      '/v1/batch',
      { batch: Array.from({ length: 11 }, () => track('x')) },
      writeKeyHeaders(key),
    );
    expect(over.status).toBe(413);

    // The SDK: three batches of 10 at once, over the limit; it waits Retry-After and stores them all.
    await new Promise((r) => setTimeout(r, 1_100));
    const sid = randomUUID();
    const bodies: string[] = [];
    const statuses: number[] = [];
    const analytics = new Analytics({
      writeKey: key,
      host: t.url,
      flushAt: 10,
      flushInterval: 60_000,
      maxRetries: 3,
    });
    analytics.on('http_request', (req) => bodies.push(req.body));
    analytics.on('http_response', (res) => statuses.push(res.status));
    for (let i = 0; i < 30; i++) analytics.track({ anonymousId: sid, event: `Call ${i}` });
    await analytics.closeAndFlush({ timeout: 20_000 });
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    const messageIds = new Set(
      bodies.flatMap((b) =>
        (JSON.parse(b) as { batch: { messageId: string }[] }).batch.map((m) => m.messageId),
      ),
    );
    expect(messageIds.size).toBe(30);
    const ids = [...messageIds].map((m) => eventIdOf(limited.clientId, m));
    await waitProcessed(ids);
    expect(await storedCount(ids)).toBe(30);
  });

  it('400 only for an unparseable or oversized request', async () => {
    const json = { 'content-type': 'application/json', ...writeKeyHeaders(writeKey) };
    expect((await http(`${t.url}/v1/batch`, { body: '{"batch": [', headers: json })).status).toBe(400);
    expect((await postSegment('/v1/batch', { batch: 'nope' })).status).toBe(400);
    expect((await postSegment('/v1/track', ['not', 'an', 'object'])).status).toBe(400);
    const big = {
      batch: [{ type: 'track', event: 'x', anonymousId: 'a', properties: { blob: 'x'.repeat(600_000) } }],
    };
    const tooBig = await postSegment('/v1/batch', big);
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.code).toBe('payload_too_large');
    // The native routes keep their own (larger) limit: 10 events of 60 KB in one batch.
    const event = (i: number) => ({
      session_id: 's',
      category: 'c',
      name: 'n',
      data: { i, blob: 'x'.repeat(60_000) },
      timestamp: new Date().toISOString(),
    });
    const native = await http(`${t.url}/v1/events/batch`, {
      token: writer.token,
      json: { events: Array.from({ length: 10 }, (_, i) => event(i)) },
    });
    expect(native.status).toBe(202);
  });
});

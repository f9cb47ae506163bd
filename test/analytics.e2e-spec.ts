import { randomUUID } from 'node:crypto';
import { adminToken, http, type HttpResult, registerClient } from './helpers/app';
import { type Page, analystSuite, uniqueYear } from './helpers/analyst';

const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

describe('analytics (e2e)', () => {
  const ctx = analystSuite();
  let admin: string;

  beforeAll(async () => {
    admin = await adminToken(ctx.t.url);
  });

  const get = <T = Page>(path: string, token?: string) => ctx.get<T>(path, token);

  /** Follows next_cursor to the end; `between` runs after each page (to insert rows mid-walk). */
  async function walk(
    path: string,
    between?: (pageNo: number) => Promise<void>,
  ): Promise<{ rows: any[]; pages: number }> {
    const rows: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const res: HttpResult<Page> = await get(
        cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path,
      );
      expect(res.status).toBe(200);
      rows.push(...res.body.data);
      cursor = res.body.next_cursor;
      pages++;
      if (between) await between(pages);
      if (pages > 100) throw new Error('pagination does not end');
    } while (cursor);
    return { rows, pages };
  }

  describe('scopes', () => {
    const routes = [
      '/v1/sessions/abc/events',
      '/v1/events',
      '/v1/sessions',
      '/v1/stats/events',
      '/v1/rejected-events',
    ];

    it.each(routes)(
      'GET %s: 401 without a token, 403 with events:write, 200 with events:read and admin',
      async (route) => {
        const writer = (await registerClient(ctx.t.url, ['events:write'], 'app')).token;
        expect((await http(`${ctx.t.url}${route}`)).status).toBe(401);
        const forbidden = await get(route, writer);
        expect(forbidden.status).toBe(403);
        expect(forbidden.body).toEqual({ code: 'forbidden', message: expect.any(String) });
        expect((await get(route, ctx.reader)).status).toBe(200);
        expect((await get(route, admin)).status).toBe(200);
      },
    );
  });

  describe('GET /v1/sessions/{session_id}/events', () => {
    it('orders by timestamp with microseconds, then by arrival, whatever the arrival order', async () => {
      const session = randomUUID();
      // Arrival order (seq) deliberately differs from occurrence order.
      const [late, tieFirst, tieSecond, usLater, usEarlier] = await ctx.fx.events([
        { session_id: session, timestamp: '2021-01-01T09:00:02.000000Z' },
        { session_id: session, timestamp: '2021-01-01T09:00:01.500000Z', name: 'cta click' },
        { session_id: session, timestamp: '2021-01-01T09:00:01.500000Z', name: 'submit' },
        { session_id: session, timestamp: '2021-01-01T09:00:00.000002Z' },
        { session_id: session, timestamp: '2021-01-01T09:00:00.000001Z' },
      ]);
      await ctx.fx.events([{ session_id: randomUUID(), timestamp: '2021-01-01T09:00:01.000000Z' }]);

      const res = await get(`/v1/sessions/${session}/events`);
      expect(res.status).toBe(200);
      expect(res.body.data.map((e) => e.id)).toEqual([usEarlier, usLater, tieFirst, tieSecond, late]);
      expect(res.body.data.map((e) => e.timestamp)).toEqual([
        '2021-01-01T09:00:00.000001Z',
        '2021-01-01T09:00:00.000002Z',
        '2021-01-01T09:00:01.500000Z',
        '2021-01-01T09:00:01.500000Z',
        '2021-01-01T09:00:02.000000Z',
      ]);
      expect(res.body.next_cursor).toBeNull();
      expect(res.body.data[0]).toEqual({
        id: usEarlier,
        session_id: session,
        category: 'page interaction',
        name: 'pageview',
        data: { host: 'example.com', path: '/' },
        timestamp: '2021-01-01T09:00:00.000001Z',
        received_at: '2021-01-01T09:00:00.000001Z',
        client_id: 'fixture-client',
      });

      const desc = await get(`/v1/sessions/${session}/events?order=desc`);
      expect(desc.body.data.map((e) => e.id)).toEqual([late, tieSecond, tieFirst, usLater, usEarlier]);
    });

    it('paginates without skipping or repeating, also when events arrive between pages', async () => {
      const session = encodeURIComponent(`session with spaces ${randomUUID()}`);
      const raw = decodeURIComponent(session);
      const base = Date.UTC(2021, 0, 1, 10);
      const ids = await ctx.fx.events(
        Array.from({ length: 9 }, (_, i) => ({
          session_id: raw,
          // pairs of equal timestamps, 1 µs steps in between
          timestamp: new Date(base + Math.floor(i / 2)).toISOString().replace('Z', `${i % 3}00Z`),
        })),
      );
      const plain = await walk(`/v1/sessions/${session}/events?limit=2`);
      expect(plain.pages).toBe(5);
      expect(plain.rows).toHaveLength(9);
      expect(new Set(plain.rows.map((e) => e.id)).size).toBe(9);
      expect(plain.rows.map((e) => e.timestamp)).toEqual([...plain.rows.map((e) => e.timestamp)].sort());

      // New events while walking: one later than everything (must show up once), one earlier
      // than the cursor (behind us: must not make anything repeat).
      let added: string[] = [];
      const live = await walk(`/v1/sessions/${session}/events?limit=2`, async (pageNo) => {
        if (pageNo !== 2) return;
        added = await ctx.fx.events([
          { session_id: raw, timestamp: '2021-01-01T11:00:00.000000Z' },
          { session_id: raw, timestamp: '2021-01-01T09:00:00.000000Z' },
        ]);
      });
      const liveIds = live.rows.map((e) => e.id);
      expect(new Set(liveIds).size).toBe(liveIds.length);
      expect(liveIds).toEqual(expect.arrayContaining([...ids, added[0]]));
      expect(liveIds).not.toContain(added[1]);
      expect(liveIds[liveIds.length - 1]).toBe(added[0]);
    });

    it('answers an empty page for an unknown session', async () => {
      const res = await get(`/v1/sessions/${randomUUID()}/events`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: [], next_cursor: null });
    });
  });

  describe('GET /v1/events', () => {
    let category: string;
    const client = `client-${randomUUID()}`;
    const sessionA = randomUUID();
    const sessionB = randomUUID();
    let ids: Record<string, string>;

    beforeAll(async () => {
      category = `cat ${randomUUID()}`;
      const [a1, a2, a3, b1, b2, b3] = await ctx.fx.events([
        {
          session_id: sessionA,
          category,
          name: 'view',
          timestamp: '2021-03-01T00:00:00.000000Z',
          client_id: client,
        },
        { session_id: sessionA, category, name: 'click', timestamp: '2021-03-01T12:00:00.000001Z' },
        {
          session_id: sessionA,
          category,
          name: 'view',
          timestamp: '2021-03-02T00:00:00.000000Z',
          client_id: client,
        },
        {
          session_id: sessionB,
          category,
          name: 'click',
          timestamp: '2021-03-01T12:00:00.000000Z',
          client_id: client,
        },
        { session_id: sessionB, category, name: 'view', timestamp: '2021-03-01T12:00:00.000002Z' },
        { session_id: sessionB, category, name: 'view', timestamp: '2021-03-03T00:00:00.000000Z' },
      ]);
      ids = { a1, a2, a3, b1, b2, b3 };
    });

    const q = (params: Record<string, string>) => `/v1/events?${new URLSearchParams(params).toString()}`;
    const idsOf = async (params: Record<string, string>) => {
      const res = await get(q(params));
      expect(res.status).toBe(200);
      return res.body.data.map((e) => e.id);
    };

    it('filters by category, in (timestamp, arrival) order', async () => {
      expect(await idsOf({ category })).toEqual([ids.a1, ids.b1, ids.a2, ids.b2, ids.a3, ids.b3]);
    });

    it('filters by type (category + name), by session, by client, and by any combination', async () => {
      expect(await idsOf({ category, name: 'view' })).toEqual([ids.a1, ids.b2, ids.a3, ids.b3]);
      expect(await idsOf({ session_id: sessionB })).toEqual([ids.b1, ids.b2, ids.b3]);
      expect(await idsOf({ client_id: client })).toEqual([ids.a1, ids.b1, ids.a3]);
      expect(await idsOf({ category, name: 'click', client_id: client })).toEqual([ids.b1]);
      expect(await idsOf({ session_id: sessionA, name: 'view', to: '2021-03-01T23:59:59Z' })).toEqual([
        ids.a1,
      ]);
    });

    it('treats from and to as inclusive, to the microsecond, and accepts bare dates', async () => {
      expect(
        await idsOf({ category, from: '2021-03-01T12:00:00.000001Z', to: '2021-03-01T12:00:00.000002Z' }),
      ).toEqual([ids.a2, ids.b2]);
      expect(await idsOf({ category, from: '2021-03-01', to: '2021-03-02' })).toEqual([
        ids.a1,
        ids.b1,
        ids.a2,
        ids.b2,
        ids.a3,
      ]);
      // A space instead of T, no zone (= UTC), and an explicit offset
      expect(await idsOf({ category, from: '2021-03-01 12:00:00.000001' })).toEqual([
        ids.a2,
        ids.b2,
        ids.a3,
        ids.b3,
      ]);
      expect(await idsOf({ category, to: '2021-03-01T13:00:00.000000+01:00' })).toEqual([ids.a1, ids.b1]);
    });

    it('orders newest first with order=desc, and pages both ways without skip or repeat', async () => {
      const all = [ids.a1, ids.b1, ids.a2, ids.b2, ids.a3, ids.b3];
      expect(await idsOf({ category, order: 'desc' })).toEqual([...all].reverse());
      for (const limit of ['1', '4', '6']) {
        const asc = await walk(q({ category, limit }));
        expect(asc.rows.map((e) => e.id)).toEqual(all);
        const desc = await walk(q({ category, limit, order: 'desc' }));
        expect(desc.rows.map((e) => e.id)).toEqual([...all].reverse());
      }
      const exact = await get(q({ category, limit: '6' }));
      expect(exact.body.next_cursor).toBeNull();
    });

    it('returns every timestamp as RFC 3339 UTC with 6 digits', async () => {
      const res = await get(q({ category }));
      for (const e of res.body.data) {
        expect(e.timestamp).toMatch(TS_RE);
        expect(e.received_at).toMatch(TS_RE);
      }
    });

    it('defaults to 100 per page and allows up to 1,000', async () => {
      const many = `bulk ${randomUUID()}`;
      await ctx.fx.events(
        Array.from({ length: 101 }, (_, i) => ({
          session_id: randomUUID(),
          category: many,
          timestamp: `2021-04-01T00:00:00.${String(i).padStart(6, '0')}Z`,
        })),
      );
      const first = await get(q({ category: many }));
      expect(first.body.data).toHaveLength(100);
      expect(first.body.next_cursor).toEqual(expect.any(String));
      const all = await get(q({ category: many, limit: '1000' }));
      expect(all.body.data).toHaveLength(101);
      expect(all.body.next_cursor).toBeNull();
    });
  });

  describe('GET /v1/sessions', () => {
    it('lists session summaries started in [from, to], paginated', async () => {
      const year = uniqueYear();
      const s = (day: number, hour = 0) =>
        `${year}-01-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00.000001Z`;
      const rows = [
        {
          session_id: `s-${randomUUID()}`,
          first_event_at: s(1),
          last_event_at: s(1, 1),
          event_count: 3,
          client_ids: ['c1'],
        },
        {
          session_id: `s-${randomUUID()}`,
          first_event_at: s(2),
          last_event_at: s(2, 5),
          event_count: 12,
          client_ids: ['c1', 'c2'],
        },
        {
          session_id: `s-${randomUUID()}`,
          first_event_at: s(2),
          last_event_at: s(3),
          event_count: 1,
          client_ids: ['c2'],
        },
        {
          session_id: `s-${randomUUID()}`,
          first_event_at: s(4),
          last_event_at: s(4),
          event_count: 7,
          client_ids: ['c3'],
        },
      ];
      for (const r of rows) await ctx.fx.session(r);

      const res = await get(`/v1/sessions?from=${year}-01-01&to=${year}-01-31`);
      expect(res.status).toBe(200);
      const tieOrdered = [rows[1], rows[2]].sort((a, b) => (a.session_id < b.session_id ? -1 : 1));
      expect(res.body.data).toEqual([rows[0], ...tieOrdered, rows[3]]);

      const inclusive = await get(
        `/v1/sessions?from=${encodeURIComponent(s(2))}&to=${encodeURIComponent(s(2))}`,
      );
      expect(inclusive.body.data.map((r) => r.session_id).sort()).toEqual(
        [rows[1].session_id, rows[2].session_id].sort(),
      );

      const paged = await walk(`/v1/sessions?from=${year}-01-01&to=${year}-01-31&limit=1`);
      expect(paged.rows).toEqual(res.body.data);
      const desc = await walk(`/v1/sessions?from=${year}-01-01&to=${year}-01-31&limit=3&order=desc`);
      expect(desc.rows).toEqual([...res.body.data].reverse());
    });
  });

  describe('GET /v1/stats/events', () => {
    it('counts per minute, hour or day (UTC), by type or by category, from the rollups', async () => {
      const year = uniqueYear();
      const cat = `stats ${randomUUID()}`;
      await ctx.fx.count(`${year}-02-01T10:00:00Z`, cat, 'a', 1);
      await ctx.fx.count(`${year}-02-01T10:00:00Z`, cat, 'b', 2);
      await ctx.fx.count(`${year}-02-01T10:59:00Z`, cat, 'a', 4);
      await ctx.fx.count(`${year}-02-01T11:00:00Z`, cat, 'a', 8);
      await ctx.fx.count(`${year}-02-02T00:00:00Z`, cat, 'b', 16);
      const range = `from=${year}-02-01&to=${year}-02-02&category=${encodeURIComponent(cat)}`;
      const b = (text: string) => `${year}-02-${text}.000000Z`;
      // Every bucket is present (zero-filled: tested in analytics-queries); here, the counted ones.
      const counted = async (path: string) => (await walk(path)).rows.filter((r) => r.count > 0);

      expect(await counted(`/v1/stats/events?${range}&interval=minute&group_by=name&limit=1000`)).toEqual([
        { bucket: b('01T10:00:00'), category: cat, name: 'a', count: 1 },
        { bucket: b('01T10:00:00'), category: cat, name: 'b', count: 2 },
        { bucket: b('01T10:59:00'), category: cat, name: 'a', count: 4 },
        { bucket: b('01T11:00:00'), category: cat, name: 'a', count: 8 },
        { bucket: b('02T00:00:00'), category: cat, name: 'b', count: 16 },
      ]);

      expect(await counted(`/v1/stats/events?${range}&interval=hour&group_by=category`)).toEqual([
        { bucket: b('01T10:00:00'), category: cat, count: 7 },
        { bucket: b('01T11:00:00'), category: cat, count: 8 },
        { bucket: b('02T00:00:00'), category: cat, count: 16 },
      ]);

      expect(await counted(`/v1/stats/events?${range}&interval=day&group_by=name`)).toEqual([
        { bucket: b('01T00:00:00'), category: cat, name: 'a', count: 13 },
        { bucket: b('01T00:00:00'), category: cat, name: 'b', count: 2 },
        { bucket: b('02T00:00:00'), category: cat, name: 'b', count: 16 },
      ]);

      // Defaults: hourly, one row per bucket; 48 hours of 2 days
      const defaults = await get(`/v1/stats/events?${range}`);
      expect(defaults.body.data).toHaveLength(48);

      // The bucket containing from is counted whole
      const narrow = await get(
        `/v1/stats/events?from=${year}-02-01T10:59:30Z&to=${year}-02-01T11:00:00Z&interval=minute&group_by=category&category=${encodeURIComponent(cat)}`,
      );
      expect(narrow.body.data).toEqual([
        { bucket: b('01T10:59:00'), category: cat, count: 4 },
        { bucket: b('01T11:00:00'), category: cat, count: 8 },
      ]);

      // The rollups follow later changes of the minute counts
      await ctx.fx.count(`${year}-02-01T10:30:00Z`, cat, 'a', 100);
      const later = await get(
        `/v1/stats/events?from=${year}-02-01T10:45:00Z&to=${year}-02-01T10:59:59Z&interval=hour&group_by=category&category=${encodeURIComponent(cat)}`,
      );
      expect(later.body.data).toEqual([{ bucket: b('01T10:00:00'), category: cat, count: 107 }]);

      for (const interval of ['minute', 'hour', 'day']) {
        const full = await get(`/v1/stats/events?${range}&interval=${interval}&group_by=name&limit=1000`);
        const paged = await walk(
          `/v1/stats/events?${range}&interval=${interval}&group_by=name&limit=${interval === 'minute' ? 500 : 1}`,
        );
        expect(paged.rows.slice(0, full.body.data.length)).toEqual(full.body.data);
      }
    });
  });

  describe('GET /v1/rejected-events', () => {
    it('lists the quarantine newest first, filtered by reason, client, type and time', async () => {
      const client = `client-${randomUUID()}`;
      const cat = `rej ${randomUUID()}`;
      const year = uniqueYear();
      const at = (h: number) => `${year}-05-01T${String(h).padStart(2, '0')}:00:00.000001Z`;
      const r1 = await ctx.fx.rejected({
        client_id: client,
        category: cat,
        name: 'x',
        reasons: ['payload_invalid'],
        rejected_at: at(1),
      });
      const r2 = await ctx.fx.rejected({
        client_id: client,
        category: cat,
        name: 'y',
        reasons: ['timestamp_in_future'],
        rejected_at: at(2),
      });
      const r3 = await ctx.fx.rejected({
        client_id: client,
        category: cat,
        name: 'x',
        reasons: ['payload_invalid', 'timestamp_in_future'],
        rejected_at: at(3),
      });
      const other = await ctx.fx.rejected({
        client_id: `other-${randomUUID()}`,
        category: cat,
        name: 'x',
        reasons: ['payload_invalid'],
        rejected_at: at(2),
      });

      const all = await get(`/v1/rejected-events?client_id=${client}`);
      expect(all.status).toBe(200);
      expect(all.body.data.map((r) => r.id)).toEqual([r3, r2, r1]);
      expect(all.body.data[2]).toEqual({
        id: r1,
        reasons: ['payload_invalid'],
        errors: [{ reason: 'payload_invalid', path: '/data/path', message: 'must be string' }],
        event: expect.objectContaining({
          id: r1,
          category: cat,
          name: 'x',
          data: { host: 'example.com', path: 42 },
          client_id: client,
        }),
        received_at: '2021-01-01T00:00:00.100000Z',
        rejected_at: at(1),
        client_id: client,
      });

      const c = encodeURIComponent(cat);
      const ids = async (query: string) =>
        (await get(`/v1/rejected-events?${query}`)).body.data.map((r) => r.id);
      expect(await ids(`client_id=${client}&reason=timestamp_in_future`)).toEqual([r3, r2]);
      expect(await ids(`category=${c}&name=x`)).toEqual([r3, other, r1]);
      expect(await ids(`category=${c}&reason=payload_invalid&order=asc`)).toEqual([r1, other, r3]);
      expect(
        await ids(`client_id=${client}&from=${encodeURIComponent(at(2))}&to=${encodeURIComponent(at(3))}`),
      ).toEqual([r3, r2]);

      const paged = await walk(`/v1/rejected-events?category=${c}&limit=1`);
      // equal rejected_at: the later arrival (other) comes first when newest first
      expect(paged.rows.map((r) => r.id)).toEqual([r3, other, r2, r1]);
      expect(paged.pages).toBe(4);
    });
  });

  describe('bad parameters', () => {
    let cursorAsc: string;
    let statsCursor: string;

    beforeAll(async () => {
      const session = randomUUID();
      await ctx.fx.events([
        { session_id: session, timestamp: '2021-06-01T00:00:00Z' },
        { session_id: session, timestamp: '2021-06-01T00:00:01Z' },
      ]);
      cursorAsc = (await get(`/v1/events?session_id=${session}&limit=1`)).body.next_cursor!;
      const year = uniqueYear();
      await ctx.fx.count(`${year}-01-01T00:00:00Z`, `c ${randomUUID()}`, 'n', 1);
      await ctx.fx.count(`${year}-01-01T00:01:00Z`, `c ${randomUUID()}`, 'n', 1);
      statsCursor = (
        await get(`/v1/stats/events?from=${year}-01-01&to=${year}-01-02&interval=minute&limit=1`)
      ).body.next_cursor!;
      expect(cursorAsc).toEqual(expect.any(String));
      expect(statsCursor).toEqual(expect.any(String));
    });

    const forged = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString('base64url');

    it.each([
      ['unknown interval', '/v1/stats/events?interval=year', '/interval'],
      ['unknown group_by', '/v1/stats/events?group_by=client', '/group_by'],
      ['from after to', '/v1/events?from=2021-02-01&to=2021-01-01', '/from'],
      ['from after to (sessions)', '/v1/sessions?from=2021-02-01&to=2021-01-01', '/from'],
      ['from after to (stats)', '/v1/stats/events?from=2021-02-02T00:00:00.000000Z&to=2021-02-01', '/from'],
      ['from after to (rejected)', '/v1/rejected-events?from=2021-02-01&to=2021-01-01', '/from'],
      ['an impossible date', '/v1/events?from=2021-02-30', '/from'],
      ['not a date', '/v1/events?to=yesterday', '/to'],
      ['limit 0', '/v1/events?limit=0', '/limit'],
      ['limit 1001', '/v1/events?limit=1001', '/limit'],
      ['limit not a number', '/v1/sessions?limit=ten', '/limit'],
      ['limit not an integer', '/v1/rejected-events?limit=1.5', '/limit'],
      ['unknown order', '/v1/events?order=random', '/order'],
      ['unknown query parameter', '/v1/events?colour=red', '/colour'],
      ['unknown query parameter (session timeline)', '/v1/sessions/abc/events?from=2021-01-01', '/from'],
      ['empty category', '/v1/events?category=', '/category'],
      ['repeated parameter', '/v1/events?category=a&category=b', '/category'],
      ['a garbage cursor', '/v1/events?cursor=not!a!cursor', '/cursor'],
      [
        'a base64 cursor that is not JSON',
        `/v1/events?cursor=${Buffer.from('hello').toString('base64url')}`,
        '/cursor',
      ],
      [
        'a forged cursor with a bad seq',
        `/v1/events?cursor=${forged({ v: 1, k: 'events', o: 'asc', p: ['2021-01-01T00:00:00.000000Z', '1; DROP TABLE events'] })}`,
        '/cursor',
      ],
      [
        'a forged cursor with a bad timestamp',
        `/v1/events?cursor=${forged({ v: 1, k: 'events', o: 'asc', p: ['2021-13-01T00:00:00.000000Z', '1'] })}`,
        '/cursor',
      ],
      [
        'a cursor of another list',
        `/v1/rejected-events?order=asc&cursor=${forged({ v: 1, k: 'events', o: 'asc', p: ['2021-01-01T00:00:00.000000Z', '1'] })}`,
        '/cursor',
      ],
      ['a bad reason', '/v1/rejected-events?reason=DROP%20TABLE', '/reason'],
      ['a unknown stats parameter', '/v1/stats/events?colour=x', '/colour'],
    ])('answers 400 for %s', async (_what, path, errorPath) => {
      const res = await get(path);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        code: 'validation_failed',
        message: expect.any(String),
        errors: expect.arrayContaining([{ path: errorPath, message: expect.any(String) }]),
      });
    });

    it('refuses a cursor used with another order, list or stats interval', async () => {
      expect((await get(`/v1/events?cursor=${cursorAsc}`)).status).toBe(200);
      expect((await get(`/v1/events?order=desc&cursor=${cursorAsc}`)).status).toBe(400);
      expect((await get(`/v1/sessions/x/events?cursor=${cursorAsc}`)).status).toBe(400);
      expect((await get(`/v1/sessions?cursor=${cursorAsc}`)).status).toBe(400);
      expect((await get(`/v1/stats/events?interval=minute&cursor=${statsCursor}`)).status).toBe(200);
      expect((await get(`/v1/stats/events?interval=hour&cursor=${statsCursor}`)).status).toBe(400);
      expect(
        (await get(`/v1/stats/events?interval=minute&group_by=category&cursor=${statsCursor}`)).status,
      ).toBe(400);
      // truncated
      expect((await get(`/v1/events?cursor=${cursorAsc.slice(0, -3)}`)).status).toBe(400);
    });

    it('accepts session ids up to 128 characters and answers 400 beyond', async () => {
      expect((await get(`/v1/sessions/${'x'.repeat(128)}/events`)).status).toBe(200);
      const res = await get<{ errors: unknown }>(`/v1/sessions/${'x'.repeat(129)}/events`);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ path: '/session_id', message: expect.any(String) }]);
    });
  });

  describe('OpenAPI', () => {
    it('documents every query parameter of the analytics routes, pre-filling no optional filter', async () => {
      const doc = (await http(`${ctx.t.url}/docs-json`)).body;
      const routes = [
        '/v1/sessions/{session_id}/events',
        '/v1/events',
        '/v1/sessions',
        '/v1/stats/events',
        '/v1/rejected-events',
      ];
      for (const route of routes) {
        const op = doc.paths[route].get;
        expect(op).toBeDefined();
        expect(op.responses['200'].content['application/json'].schema.$ref).toMatch(/PageDto$/);
        expect(op.responses['400']).toBeDefined();
        // Swagger UI sends an optional parameter's example on "Try it out": a fake cursor, session or
        // client there made the first click fail or answer nothing. Path parameters keep theirs.
        for (const p of op.parameters)
          expect({
            route,
            name: p.name,
            documented: Boolean(p.description ?? p.schema?.enum ?? p.schema?.type),
          }).toEqual({
            route,
            name: p.name,
            documented: true,
          });
        for (const p of op.parameters.filter((p: { in: string }) => p.in === 'query'))
          if (!['limit', 'order', 'interval', 'group_by', 'tz'].includes(p.name))
            expect({ route, name: p.name, example: p.example ?? p.schema?.example }).toEqual({
              route,
              name: p.name,
              example: undefined,
            });
      }
      const names = doc.paths['/v1/events'].get.parameters.map((p: { name: string }) => p.name).sort();
      expect(names).toEqual([
        'category',
        'client_id',
        'cursor',
        'from',
        'limit',
        'name',
        'order',
        'session_id',
        'to',
      ]);
    });
  });
});

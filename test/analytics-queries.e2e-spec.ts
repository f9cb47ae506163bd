// The analysts' questions: whole days, counts per bucket (every bucket, filters, groups, time
// zones), the quarantine summary and the streamed export (funnels: funnels.e2e-spec.ts).
import { randomUUID } from 'node:crypto';
import { http, registerClient, waitFor } from './helpers/app';
import { type Page, analystSuite, uniqueYear, withQuery as q } from './helpers/analyst';
import { waitProcessed } from './helpers/db';

describe('analytics queries (e2e)', () => {
  const ctx = analystSuite();
  const get = <T = Page>(path: string) => ctx.get<T>(path);

  describe('a bare date in `to` is the end of that day', () => {
    it('from=D&to=D is all of day D, to the last microsecond', async () => {
      const category = `day ${randomUUID()}`;
      const [morning, last] = await ctx.fx.events([
        { session_id: randomUUID(), category, timestamp: '2026-12-01T00:00:00.000000Z' },
        { session_id: randomUUID(), category, timestamp: '2026-12-01T23:59:59.999999Z' },
        { session_id: randomUUID(), category, timestamp: '2026-12-02T00:00:00.000000Z' },
        { session_id: randomUUID(), category, timestamp: '2026-11-30T23:59:59.999999Z' },
      ]);
      const res = await get(q('/v1/events', { category, from: '2026-12-01', to: '2026-12-01' }));
      expect(res.status).toBe(200);
      expect(res.body.data.map((e) => e.id)).toEqual([morning, last]);
    });
  });

  describe('GET /v1/stats/events', () => {
    it('has every bucket between from and to, zero when empty, per group', async () => {
      const year = uniqueYear();
      const cat = `stats ${randomUUID()}`;
      await ctx.fx.count(`${year}-02-01T10:00:00Z`, cat, 'a', 1, 'c1');
      await ctx.fx.count(`${year}-02-01T10:00:00Z`, cat, 'b', 2, 'c2');
      await ctx.fx.count(`${year}-02-01T12:30:00Z`, cat, 'a', 4, 'c1');
      const b = (h: string) => `${year}-02-01T${h}:00:00.000000Z`;
      const range = { from: `${year}-02-01T10:00:00Z`, to: `${year}-02-01T13:00:00Z`, category: cat };

      const total = await get(q('/v1/stats/events', { ...range, interval: 'hour' }));
      expect(total.status).toBe(200);
      expect(total.body).toEqual({
        data: [
          { bucket: b('10'), count: 3 },
          { bucket: b('11'), count: 0 },
          { bucket: b('12'), count: 4 },
          { bucket: b('13'), count: 0 },
        ],
        next_cursor: null,
      });

      const byType = await get(q('/v1/stats/events', { ...range, interval: 'hour', group_by: 'name' }));
      expect(byType.body.data).toEqual([
        { bucket: b('10'), category: cat, name: 'a', count: 1 },
        { bucket: b('10'), category: cat, name: 'b', count: 2 },
        { bucket: b('11'), category: cat, name: 'a', count: 0 },
        { bucket: b('11'), category: cat, name: 'b', count: 0 },
        { bucket: b('12'), category: cat, name: 'a', count: 4 },
        { bucket: b('12'), category: cat, name: 'b', count: 0 },
        { bucket: b('13'), category: cat, name: 'a', count: 0 },
        { bucket: b('13'), category: cat, name: 'b', count: 0 },
      ]);

      const byClient = await get(
        q('/v1/stats/events', { ...range, interval: 'hour', group_by: 'client_id', name: 'a' }),
      );
      expect(byClient.body.data).toEqual([
        { bucket: b('10'), client_id: 'c1', count: 1 },
        { bucket: b('11'), client_id: 'c1', count: 0 },
        { bucket: b('12'), client_id: 'c1', count: 4 },
        { bucket: b('13'), client_id: 'c1', count: 0 },
      ]);
      const oneClient = await get(q('/v1/stats/events', { ...range, interval: 'hour', client_id: 'c2' }));
      expect(oneClient.body.data.map((r) => r.count)).toEqual([2, 0, 0, 0]);

      // Pages walk the same rows, whatever the page size.
      const rows: unknown[] = [];
      let cursor: string | null = null;
      do {
        const params: Record<string, string> = { ...range, interval: 'hour', group_by: 'name', limit: '3' };
        if (cursor) params.cursor = cursor;
        const res = await get(q('/v1/stats/events', params));
        expect(res.status).toBe(200);
        rows.push(...res.body.data);
        cursor = res.body.next_cursor;
      } while (cursor);
      expect(rows).toEqual(byType.body.data);

      // Minutes: every minute of the range, from the per-minute counts.
      const minutes = await get(
        q('/v1/stats/events', {
          category: cat,
          from: `${year}-02-01T12:28:00Z`,
          to: `${year}-02-01T12:31:00Z`,
          interval: 'minute',
        }),
      );
      expect(minutes.body.data.map((r) => r.count)).toEqual([0, 0, 4, 0]);
    });

    it('buckets days, weeks and months, at local midnights with tz', async () => {
      const year = uniqueYear();
      const cat = `tz ${randomUUID()}`;
      // 23:30 UTC on Jan 31 is already Feb 1 in Paris (UTC+1 in winter).
      await ctx.fx.count(`${year}-01-31T23:30:00Z`, cat, 'x', 5);
      await ctx.fx.count(`${year}-02-01T10:00:00Z`, cat, 'x', 7);
      const utc = await get(
        q('/v1/stats/events', { category: cat, from: `${year}-01-31`, to: `${year}-02-01`, interval: 'day' }),
      );
      expect(utc.body.data).toEqual([
        { bucket: `${year}-01-31T00:00:00.000000Z`, count: 5 },
        { bucket: `${year}-02-01T00:00:00.000000Z`, count: 7 },
      ]);
      const paris = await get(
        q('/v1/stats/events', {
          category: cat,
          from: `${year}-01-31`,
          to: `${year}-02-01`,
          interval: 'day',
          tz: 'Europe/Paris',
        }),
      );
      expect(paris.body.data).toEqual([
        { bucket: `${year}-01-30T23:00:00.000000Z`, count: 0 },
        { bucket: `${year}-01-31T23:00:00.000000Z`, count: 12 },
      ]);
      const months = await get(
        q('/v1/stats/events', {
          category: cat,
          from: `${year}-01-01`,
          to: `${year}-03-31`,
          interval: 'month',
        }),
      );
      expect(months.body.data).toEqual([
        { bucket: `${year}-01-01T00:00:00.000000Z`, count: 5 },
        { bucket: `${year}-02-01T00:00:00.000000Z`, count: 7 },
        { bucket: `${year}-03-01T00:00:00.000000Z`, count: 0 },
      ]);
      const weeks = await get(
        q('/v1/stats/events', {
          category: cat,
          from: `${year}-01-25`,
          to: `${year}-02-07`,
          interval: 'week',
        }),
      );
      const total = weeks.body.data.reduce((s: number, r) => s + (r.count as number), 0);
      expect(total).toBe(12);
      for (const r of weeks.body.data) expect(new Date(r.bucket as string).getUTCDay()).toBe(1); // Mondays
    });

    it('counts by client from what the worker stored, and by session from its events', async () => {
      const writer = await registerClient(ctx.t.url, ['events:write'], 'stats app');
      const session = randomUUID();
      const category = `live ${randomUUID()}`;
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      const now = Date.now();
      const res = await http(`${ctx.t.url}/v1/events/batch`, {
        token: writer.token,
        json: {
          events: ids.map((id, i) => ({
            id,
            session_id: session,
            category,
            name: i === 2 ? 'other' : 'pageview',
            data: { host: 'example.com', path: '/' },
            timestamp: new Date(now - 60_000 * i).toISOString(),
          })),
        },
      });
      expect(res.status).toBe(202);
      await waitProcessed(ids);
      const byClient = await get(
        q('/v1/stats/events', { category, interval: 'hour', group_by: 'client_id' }),
      );
      expect(byClient.status).toBe(200);
      const counted = byClient.body.data.filter((r) => r.count > 0);
      expect(counted.every((r) => r.client_id === writer.clientId)).toBe(true);
      expect(counted.reduce((s: number, r) => s + (r.count as number), 0)).toBe(3);

      const bySession = await waitFor(async () => {
        const r = await get(
          q('/v1/stats/events', { session_id: session, interval: 'day', group_by: 'name' }),
        );
        return r.status === 200 ? r : undefined;
      });
      const named = Object.fromEntries(bySession.body.data.map((r) => [r.name as string, 0])) as Record<
        string,
        number
      >;
      for (const r of bySession.body.data) named[r.name as string] += r.count as number;
      expect(named).toEqual({ other: 1, pageview: 2 });
    });

    it.each([
      ['a bad tz', { tz: 'Mars/Olympus' }, '/tz', /IANA time zone/],
      ['an unknown interval', { interval: 'year' }, '/interval', /interval/],
      [
        'too many buckets',
        { interval: 'minute', from: '2026-01-01', to: '2026-03-01' },
        '/interval',
        /at most 10000: use a larger interval or a shorter range/,
      ],
      ['from after to', { from: '2026-02-02', to: '2026-02-01' }, '/from', /from must not be after to/],
    ])('answers 400 for %s, saying what to change', async (_what, params, path, message) => {
      const res = await get(q('/v1/stats/events', params as Record<string, string>));
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        code: 'validation_failed',
        message: expect.any(String),
        errors: expect.arrayContaining([{ path, message: expect.stringMatching(message) }]),
      });
    });

    it('defaults to the last 48 hours by hour', async () => {
      const res = await get('/v1/stats/events');
      expect(res.status).toBe(200);
      expect(res.body.data).toHaveLength(48);
      expect(res.body.data.every((r) => typeof r.count === 'number')).toBe(true);
    });
  });

  describe('GET /v1/rejected-events/summary', () => {
    it('counts the quarantine per reason and type, most frequent first', async () => {
      const client = `sum-${randomUUID()}`;
      const year = uniqueYear();
      const at = (d: number) => `${year}-03-0${d}T12:00:00.000000Z`;
      await ctx.fx.rejected({
        client_id: client,
        category: 'c',
        name: 'x',
        reasons: ['payload_invalid'],
        rejected_at: at(1),
      });
      await ctx.fx.rejected({
        client_id: client,
        category: 'c',
        name: 'x',
        reasons: ['payload_invalid'],
        rejected_at: at(2),
      });
      await ctx.fx.rejected({
        client_id: client,
        category: 'c',
        name: 'y',
        reasons: ['payload_invalid', 'timestamp_in_future'],
        rejected_at: at(3),
      });
      const res = await get(q('/v1/rejected-events/summary', { client_id: client }));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        data: [
          { reason: 'payload_invalid', category: 'c', name: 'x', count: 2, last_rejected_at: at(2) },
          { reason: 'payload_invalid', category: 'c', name: 'y', count: 1, last_rejected_at: at(3) },
          { reason: 'timestamp_in_future', category: 'c', name: 'y', count: 1, last_rejected_at: at(3) },
        ],
        next_cursor: null,
      });
      const ranged = await get(
        q('/v1/rejected-events/summary', { client_id: client, from: `${year}-03-02`, to: `${year}-03-02` }),
      );
      expect(ranged.body.data).toEqual([
        { reason: 'payload_invalid', category: 'c', name: 'x', count: 1, last_rejected_at: at(2) },
      ]);
      const first = await get(q('/v1/rejected-events/summary', { client_id: client, limit: '2' }));
      expect(first.body.data).toEqual(res.body.data.slice(0, 2));
      const rest = await get(
        q('/v1/rejected-events/summary', { client_id: client, limit: '2', cursor: first.body.next_cursor! }),
      );
      expect(rest.body).toEqual({ data: res.body.data.slice(2), next_cursor: null });
    });

    it('groups by reason alone or by type alone (group_by), with pages of its own', async () => {
      const client = `sum-${randomUUID()}`;
      const year = uniqueYear();
      const at = (d: number) => `${year}-04-0${d}T12:00:00.000000Z`;
      const add = (name: string, reasons: string[], d: number) =>
        ctx.fx.rejected({ client_id: client, category: 'c', name, reasons, rejected_at: at(d) });
      await add('x', ['payload_invalid'], 1);
      await add('y', ['payload_invalid'], 2);
      await add('y', ['payload_invalid', 'timestamp_in_future'], 3);
      const byReason = await get(q('/v1/rejected-events/summary', { client_id: client, group_by: 'reason' }));
      expect(byReason.status).toBe(200);
      expect(byReason.body).toEqual({
        data: [
          { reason: 'payload_invalid', count: 3, last_rejected_at: at(3) },
          { reason: 'timestamp_in_future', count: 1, last_rejected_at: at(3) },
        ],
        next_cursor: null,
      });
      const byType = await get(q('/v1/rejected-events/summary', { client_id: client, group_by: 'type' }));
      expect(byType.body).toEqual({
        data: [
          { category: 'c', name: 'y', count: 2, last_rejected_at: at(3) },
          { category: 'c', name: 'x', count: 1, last_rejected_at: at(1) },
        ],
        next_cursor: null,
      });
      const both = await get(
        q('/v1/rejected-events/summary', { client_id: client, group_by: 'reason,type' }),
      );
      expect(both.body.data).toHaveLength(3);
      const first = await get(
        q('/v1/rejected-events/summary', { client_id: client, group_by: 'reason', limit: '1' }),
      );
      const rest = await get(
        q('/v1/rejected-events/summary', {
          client_id: client,
          group_by: 'reason',
          limit: '1',
          cursor: first.body.next_cursor!,
        }),
      );
      expect([...first.body.data, ...rest.body.data]).toEqual(byReason.body.data);
      // A cursor of one grouping is refused by another.
      const mixed = await get(
        q('/v1/rejected-events/summary', {
          client_id: client,
          group_by: 'type',
          cursor: first.body.next_cursor!,
        }),
      );
      expect(mixed.status).toBe(400);
      expect((await get(q('/v1/rejected-events/summary', { group_by: 'name' }))).status).toBe(400);
    });
  });

  describe('GET /v1/events/export', () => {
    const session = `export ${randomUUID()}`;
    let ids: string[];

    beforeAll(async () => {
      ids = await ctx.fx.events([
        {
          session_id: session,
          timestamp: '2021-09-01T00:00:00.000001Z',
          data: { text: 'comma, "quote"\nnew line', n: 1 },
        },
        { session_id: session, timestamp: '2021-09-01T00:00:00.000002Z', client_id: 'a,b' },
      ]);
    });

    it('streams NDJSON, one event per line, with a file name', async () => {
      const res = await fetch(`${ctx.t.url}/v1/events/export?session_id=${encodeURIComponent(session)}`, {
        headers: { authorization: `Bearer ${ctx.reader}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="events-.*\.ndjson"$/);
      const lines = (await res.text()).split('\n');
      expect(lines.pop()).toBe('');
      const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(events.map((e) => e.id)).toEqual(ids);
      expect(events[0].data).toEqual({ text: 'comma, "quote"\nnew line', n: 1 });
    });

    it('streams CSV with a header row, data as a JSON column, quoted where needed', async () => {
      const res = await fetch(
        `${ctx.t.url}/v1/events/export?format=csv&session_id=${encodeURIComponent(session)}`,
        { headers: { authorization: `Bearer ${ctx.reader}` } },
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(res.headers.get('content-disposition')).toMatch(/filename="events-.*\.csv"/);
      const body = await res.text();
      const [header, first] = body.split('\r\n');
      expect(header).toBe('id,session_id,category,name,timestamp,received_at,client_id,data');
      expect(first).toBe(
        `${ids[0]},${session},page interaction,pageview,2021-09-01T00:00:00.000001Z,2021-09-01T00:00:00.000001Z,` +
          `fixture-client,"{""n"": 1, ""text"": ""comma, \\""quote\\""\\nnew line""}"`,
      );
      expect(body).toContain(`,"a,b","{""host"": ""example.com"", ""path"": ""/""}"\r\n`);
    });

    it('exports every matching row across many chunks, once each, in order', async () => {
      const category = `bulk export ${randomUUID()}`;
      await ctx.fx.bulkEvents(category, 2_500);
      const res = await fetch(`${ctx.t.url}/v1/events/export?category=${encodeURIComponent(category)}`, {
        headers: { authorization: `Bearer ${ctx.reader}` },
      });
      const lines = (await res.text()).trim().split('\n');
      expect(lines).toHaveLength(2_500);
      const seqs = lines.map((l) => (JSON.parse(l) as { data: { i: number } }).data.i);
      expect(seqs).toEqual(Array.from({ length: 2_500 }, (_, i) => i));
    });

    it('answers 400 for a bad format', async () => {
      const res = await get<{ errors: unknown }>('/v1/events/export?format=xlsx');
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ path: '/format', message: expect.any(String) }]);
    });
  });
});

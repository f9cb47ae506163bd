// Every read of events spans both tiers with unchanged answers: events sent through the real API
// over past days, every read path's answers recorded, the days moved to the archive by the
// archive pass, and every answer read again must be identical. Then late events for an archived day (a new
// partition of that day), a file on disk that nobody registered, a key the ledger forgot, and a
// read racing a move.
import { randomInt, randomUUID } from 'node:crypto';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Pool } from 'pg';
import { AnalyticsRepository, type EventRow } from '../src/analytics/analytics.repository';
import { EventTiers } from '../src/analytics/event-tiers.service';
import { ArchiveCatalogRepository } from '../src/archive/archive-catalog.repository';
import { ArchivePassService } from '../src/archive/archive-pass.service';
import { dayDir } from '../src/archive/archive-layout';
import { ArchiveWriter } from '../src/archive/archive-writer.service';
import { EventPartitionsRepository } from '../src/archive/event-partitions.repository';
import { http, registerClient, startApp, type TestApp, type TestClient } from './helpers/app';
import { waitProcessed } from './helpers/db';
import { TEST_ARCHIVE_DIR, TEST_DATABASE_URL } from './helpers/env';

jest.setTimeout(120_000);

describe('reads over both tiers (e2e)', () => {
  // A past year of this run alone (timestamps in the past are accepted).
  const Y = 1990 + randomInt(0, 25);
  const D = [`${Y}-05-10`, `${Y}-05-11`, `${Y}-05-12`, `${Y}-05-13`];
  const RANGE = { from: D[0], to: D[2] };
  const cat = `tiers ${randomUUID().slice(0, 8)}`;
  const PV = { category: cat, name: 'pageview' };
  const CTA = { category: cat, name: 'cta click' };
  const SUBMIT = { category: 'form tiers', name: `submit ${cat}` };
  let t: TestApp;
  let pool: Pool;
  let writers: TestClient[];
  let reader: TestClient;
  const ids: { id: string; client: string }[] = [];
  const lateSession = `late-${randomUUID()}`;
  const midnight = `midnight-${randomUUID()}`;

  const get = (path: string) => http(`${t.url}${path}`, { token: reader.token });
  const qs = (p: Record<string, string | number | undefined>) =>
    new URLSearchParams(
      Object.entries(p)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();

  async function send(client: TestClient, events: Record<string, unknown>[]): Promise<void> {
    const res = await http(`${t.url}/v1/events/batch`, { token: client.token, json: { events } });
    expect(res.status).toBe(202);
    await waitProcessed(events.map((e) => e.id as string));
  }

  const ev = (session: string, type: { category: string; name: string }, ts: string, n = 0) => ({
    id: randomUUID(),
    session_id: session,
    ...type,
    data: { n, path: `/p/${n}`, nested: { é: 'ü\u2028', list: [n, null] } },
    timestamp: ts,
  });

  /** Fixture events: 2 clients, 3 days, ties, a session across midnight, 3 types. */
  async function ingest(): Promise<void> {
    const types = [PV, CTA, PV, SUBMIT, CTA, PV];
    for (const [c, client] of writers.entries()) {
      const batch: ReturnType<typeof ev>[] = [];
      for (let s = 0; s < 6; s++) {
        const session = `s${s}-${c}-${randomUUID().slice(0, 8)}`;
        const day = D[s % 3];
        for (let k = 0; k < 5; k++) {
          // Sessions 0 and 3 share their timestamps with each other's events: seq breaks the tie.
          const minute = (s % 3 === 0 ? 0 : s * 37) + k * 7;
          const ts = `${day}T${String(8 + Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:00.123456Z`;
          batch.push(ev(session, types[(s + k) % types.length], ts, k));
        }
      }
      if (c === 0) {
        batch.push(
          ev(midnight, PV, `${D[0]}T23:58:00Z`, 1),
          ev(midnight, CTA, `${D[0]}T23:59:59.999999Z`, 2),
        );
        batch.push(ev(midnight, SUBMIT, `${D[1]}T00:00:00Z`, 3), ev(midnight, PV, `${D[1]}T00:04:00.5Z`, 4));
        batch.push(ev(lateSession, PV, `${D[1]}T10:00:00Z`, 1));
      }
      // Kept hot until the race test moves it.
      batch.push(ev(`race-${c}`, PV, `${D[3]}T12:00:00Z`, c), ev(`race-${c}`, CTA, `${D[3]}T12:01:00Z`, c));
      await send(client, batch);
      for (const e of batch) ids.push({ id: e.id, client: client.clientId });
    }
  }

  /** Every page of a list, cursor by cursor. */
  async function walk(path: string, params: Record<string, string | number | undefined>) {
    const pages: unknown[] = [];
    let cursor: string | undefined;
    do {
      const res = await get(`${path}?${qs({ ...params, cursor })}`);
      expect(res.status).toBe(200);
      pages.push(res.body);
      cursor = res.body.next_cursor ?? undefined;
    } while (cursor);
    return pages;
  }

  /** Every read path's answers over the fixture's days. */
  async function answers(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    const lists: Record<string, Record<string, string>> = {
      range: RANGE,
      type: { ...RANGE, ...PV },
      name: { ...RANGE, name: SUBMIT.name },
      category: { ...RANGE, category: cat },
      client: { ...RANGE, client_id: writers[1].clientId },
      hours: { from: `${D[0]}T09:00:00Z`, to: `${D[1]}T08:30:00Z`, category: cat },
      session: { session_id: midnight },
    };
    for (const [k, f] of Object.entries(lists))
      for (const order of ['asc', 'desc'])
        out[`events ${k} ${order}`] = await walk('/v1/events', { ...f, order, limit: 3 });
    for (const order of ['asc', 'desc'])
      out[`timeline ${order}`] = await walk(`/v1/sessions/${midnight}/events`, { order, limit: 2 });
    for (const format of ['ndjson', 'csv'])
      for (const [k, f] of Object.entries({ range: RANGE, type: { ...RANGE, ...CTA } })) {
        const res = await get(`/v1/events/export?${qs({ ...f, format })}`);
        expect(res.status).toBe(200);
        out[`export ${format} ${k}`] = res.body;
      }
    for (const [k, range] of Object.entries({ one: { from: D[1], to: D[1] }, several: RANGE })) {
      for (const steps of [
        [PV, CTA, SUBMIT],
        [PV, PV],
      ]) {
        const res = await http(`${t.url}/v1/funnels`, {
          token: reader.token,
          json: { steps, within: '1h', ...range },
        });
        expect(res.status).toBe(200);
        out[`funnel ${k} ${steps.length}`] = res.body;
      }
    }
    for (const { id, client } of ids.slice(0, 40).filter((_x, i) => i % 4 === 0)) {
      out[`id ${id}`] = (await get(`/v1/events/${id}?client_id=${client}`)).body;
      out[`id ${id} any client`] = (await get(`/v1/events/${id}`)).body;
    }
    for (const [interval, group_by] of [
      ['hour', 'name'],
      ['day', undefined],
    ] as const)
      out[`stats ${interval}`] = await walk('/v1/stats/events', {
        session_id: midnight,
        interval,
        group_by,
        from: `${D[0]}T20:00:00Z`,
        to: `${D[1]}T03:59:59Z`,
        limit: 5,
      });
    return out;
  }

  /**
   * The pass's move of one day by its repositories (write the file; one transaction: lock the
   * partition, register the file, drop the partition), with a lock_timeout to see it wait.
   */
  async function move(day: string, lockTimeout?: string): Promise<void> {
    const written = await t.app.get(ArchiveWriter).writeDay(day);
    const catalog = t.app.get(ArchiveCatalogRepository);
    const db = await pool.connect();
    try {
      await db.query('BEGIN');
      if (lockTimeout) await db.query(`SET LOCAL lock_timeout = '${lockTimeout}'`);
      await db.query(`LOCK TABLE events_p${day.replace(/-/g, '')} IN ACCESS EXCLUSIVE MODE`);
      await catalog.register(db, {
        path: catalog.relativePath(written.path!),
        day,
        events: written.events,
        bytes: written.bytes,
      });
      await t.app.get(EventPartitionsRepository).drop(day, db);
      await db.query('COMMIT');
    } catch (err) {
      await db.query('ROLLBACK');
      throw err;
    } finally {
      db.release();
    }
  }

  let before: Record<string, unknown>;

  beforeAll(async () => {
    t = await startApp();
    pool = new Pool({ connectionString: TEST_DATABASE_URL, max: 3 });
    writers = [
      await registerClient(t.url, ['events:write'], 'tiers writer 0'),
      await registerClient(t.url, ['events:write'], 'tiers writer 1'),
    ];
    reader = await registerClient(t.url, ['events:read'], 'tiers reader');
    await ingest();
    before = await answers();
  });

  afterAll(async () => {
    await pool?.end();
    await t?.close();
  });

  it('answers every read identically once every day is archived', async () => {
    // Every day before the race test's day; that one stays hot until the race test moves it.
    expect(await t.app.get(ArchivePassService).run({ before: D[3] })).not.toBeNull();
    const parts = await pool.query(`SELECT to_regclass($1) AS p`, [`events_p${D[1].replace(/-/g, '')}`]);
    expect(parts.rows[0].p).toBeNull();
    expect(await answers()).toEqual(before);
  });

  it('ignores a Parquet file on disk that no pass registered', async () => {
    const [day] = await t.app.get(ArchiveCatalogRepository).days(pool, D[0], D[0]);
    await copyFile(day.files[0], join(dayDir(TEST_ARCHIVE_DIR, D[0]), 'part-unregistered.parquet'));
    expect(await answers()).toEqual(before);
  });

  it('finds an archived event whose key the ledger forgot', async () => {
    const { id, client } = ids[4];
    await pool.query('DELETE FROM event_ids WHERE id = $1', [id]);
    expect((await get(`/v1/events/${id}?client_id=${client}`)).body).toEqual(before[`id ${id}`]);
    expect((await get(`/v1/events/${id}`)).body).toEqual(before[`id ${id} any client`]);
    expect((await get(`/v1/events/${randomUUID()}`)).status).toBe(404);
  });

  it('shows late events of an archived day with the archived ones, each once, in order', async () => {
    const tie = `${D[1]}T00:04:00.500000Z`; // an archived event's timestamp: the late one follows it
    const late = [
      ev(lateSession, CTA, `${D[1]}T10:05:00Z`, 2),
      ev(lateSession, SUBMIT, `${D[1]}T10:06:00Z`, 3),
      ev(midnight, CTA, tie, 5),
    ];
    await send(writers[0], late);
    const list = async (order: string) =>
      (
        (await walk('/v1/events', { ...RANGE, order, limit: 4 })) as {
          data: { id: string; timestamp: string }[];
        }[]
      ).flatMap((p) => p.data);
    const asc = await list('asc');
    const desc = await list('desc');
    const old = (before['events range asc'] as { data: { id: string }[] }[]).flatMap((p) =>
      p.data.map((e) => e.id),
    );
    expect(asc.map((e) => e.id).sort()).toEqual([...old, ...late.map((e) => e.id)].sort());
    expect(desc.map((e) => e.id)).toEqual(asc.map((e) => e.id).reverse());
    expect(asc.map((e) => e.timestamp)).toEqual(asc.map((e) => e.timestamp).sort());
    const atTie = asc.findIndex((e) => e.timestamp === tie);
    expect(asc[atTie + 1].id).toBe(late[2].id);
    const exported = ((await get(`/v1/events/export?${qs({ ...RANGE, format: 'ndjson' })}`)).body as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(exported).toEqual(asc.map((e) => e.id));
    const funnel = await http(`${t.url}/v1/funnels`, {
      token: reader.token,
      json: { steps: [PV, CTA, SUBMIT], within: '1h', from: D[1], to: D[1] },
    });
    const was = (before['funnel one 3'] as { steps: { sessions: number }[] }).steps.map((s) => s.sessions);
    expect(funnel.body.steps.map((s: { sessions: number }) => s.sessions)).toEqual([
      was[0],
      was[1] + 1,
      was[2] + 1,
    ]);
    const stats = await get(
      `/v1/stats/events?${qs({ session_id: lateSession, interval: 'day', from: D[1], to: D[1] })}`,
    );
    expect(stats.body.data).toEqual([{ bucket: `${D[1]}T00:00:00.000000Z`, count: 3 }]);
    expect((await get(`/v1/events/${late[0].id}`)).body.status).toBe('stored');
  });

  it('keeps the move waiting while a read holds its snapshot, and the read sees every event once', async () => {
    const tiers = t.app.get(EventTiers);
    const repo = t.app.get(AnalyticsRepository);
    const filter = { from: `${D[3]}T00:00:00Z`, to: `${D[3]}T23:59:59.999999Z` };
    let moveError: unknown;
    const read = await tiers.snapshot(filter, 'asc', null, async (db) => {
      const rows: EventRow[] = await repo.events(filter, 'asc', null, 100, db);
      moveError = await move(D[3], '300ms').then(
        () => null,
        (err: unknown) => err,
      );
      return rows;
    });
    expect((moveError as { code?: string })?.code).toBe('55P03'); // lock_timeout: the drop waited
    expect(read.hot).toHaveLength(4);
    expect(read.days).toEqual([]);
    await move(D[3]);
    const after = await tiers.events(filter, 'asc', null, 100);
    // The failed move left its file on disk, unregistered: it is not read twice.
    expect(after).toEqual(read.hot);
  });

  it('stops a funnel over the archive at FUNNEL_TIMEOUT with 503 query_timeout', async () => {
    const api = await startApp({ ROLE: 'api', FUNNEL_TIMEOUT: '1ms' });
    try {
      const res = await http(`${api.url}/v1/funnels`, {
        token: reader.token,
        json: { steps: [PV, CTA, SUBMIT], within: '1h', ...RANGE },
      });
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        code: 'query_timeout',
        message: expect.stringMatching(/FUNNEL_TIMEOUT \(1 ms\)/),
      });
    } finally {
      await api.close();
    }
  });
});

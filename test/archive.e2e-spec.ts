// The archive's foundations against real PostgreSQL: a day's events written as one Parquet file
// (atomic, zstd, sorted, microseconds kept), read back by the ArchiveReader in exactly the rows the
// PostgreSQL read path returns for the same query, and by an independent reader (hyparquet).
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Global, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Pool } from 'pg';
import { AnalyticsRepository, type EventFilter, type EventRow } from '../src/analytics/analytics.repository';
import { FunnelsRepository, type FunnelQuery } from '../src/analytics/funnels.repository';
import type { Order } from '../src/analytics/page.dto';
import type { ArchiveDay } from '../src/archive/archive-catalog.repository';
import { archiveFilesByDay } from '../src/archive/archive-layout';
import { ArchiveFilesRepository } from '../src/archive/archive-files.repository';
import { ArchiveModule } from '../src/archive/archive.module';
import { ArchiveReader } from '../src/archive/archive-reader.repository';
import { ArchiveWriter } from '../src/archive/archive-writer.service';
import { DuckDbService } from '../src/archive/duckdb.service';
import { AuditService } from '../src/audit/audit.service';
import { APP_CONFIG, loadConfig } from '../src/config/config';
import { MetricsService } from '../src/metrics/metrics.service';
import { PG_POOL } from '../src/prisma/pg-pool';
import { sqlTimestamp } from '../src/prisma/sql';
import { testEnv } from './helpers/env';

const DAY = '2011-03-07';
const NEXT = '2011-03-08';
const EMPTY = '2011-03-09';
const RANGE = { from: `${DAY}T00:00:00.000000Z`, to: `${NEXT}T23:59:59.999999Z` };
const MICROS_TS = `${DAY}T09:15:27.243861Z`;
const PV = { category: 'page interaction', name: 'pageview' };
const CTA = { category: 'page interaction', name: 'cta click' };
const SUBMIT = { category: 'form interaction', name: 'submit' };
const RARE = { category: 'form interaction', name: 'reset' };

interface Fixture {
  id: string;
  session_id: string;
  category: string;
  name: string;
  data: string;
  timestamp: string;
  received_at: string;
  client_id: string;
}

/** Deterministic events over DAY and NEXT: 12 sessions of 4-9 events, ties, a session across midnight. */
function fixtures(): Fixture[] {
  const out: Fixture[] = [];
  const base = Date.parse(`${DAY}T00:00:00Z`) * 1000;
  const iso = (us: number): string => {
    const s = Math.floor(us / 1e6);
    return `${new Date(s * 1000).toISOString().slice(0, 19)}.${String(us - s * 1e6).padStart(6, '0')}Z`;
  };
  let n = 0;
  const add = (
    session: number,
    type: { category: string; name: string },
    us: number,
    data: unknown,
  ): void => {
    n++;
    out.push({
      id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      session_id: `arch-s${session}`,
      ...type,
      data: JSON.stringify(data),
      timestamp: iso(us),
      received_at: iso(us + 1_234_567),
      client_id: `arch-c${session % 2}`,
    });
  };
  for (let s = 0; s < 12; s++) {
    // Session 11 starts at 23:50 on DAY and goes on after midnight.
    let t = s === 11 ? base + 23 * 3_600e6 + 50 * 60e6 + 7 : base + s * 2 * 3_600e6 + s * 1_000_003;
    const steps = [PV, PV, CTA, PV, SUBMIT, CTA, SUBMIT, PV, CTA].slice(0, 4 + (s % 6));
    if (s % 3 === 0) steps.reverse();
    for (const [k, type] of steps.entries()) {
      add(s, type, t, { host: 'shop.example', path: `/p/${s}/${k}`, nested: { é: 'ü\u2028', n: [k, null] } });
      // Two events of session 2 share a timestamp: seq breaks the tie.
      if (!(s === 2 && k === 1)) t += 7 * 60e6 + 13;
    }
  }
  add(3, RARE, base + 36 * 3_600e6 + 1, { host: 'shop.example', path: '/r', form: {} });
  add(4, PV, Date.parse(MICROS_TS) * 1000 + 861, { host: 'shop.example', path: '/µs' });
  // Inserted in a shuffled order so that seq does not follow the timestamps.
  return out
    .map((e, i) => ({ e, k: (i * 7919) % out.length }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.e);
}

describe('Archive (PostgreSQL → Parquet → DuckDB / hyparquet)', () => {
  let dir: string;
  let pool: Pool;
  let moduleRef: TestingModule;
  let writer: ArchiveWriter;
  let reader: ArchiveReader;
  let duckdb: DuckDbService;
  let pg: AnalyticsRepository;
  let pgFunnels: FunnelsRepository;
  const written: Record<string, { events: number; bytes: number; path: string | null }> = {};
  const events = fixtures();

  // This spec registers nothing: the reader is given every file the writer left in the folder.
  const onDisk = (): Promise<ArchiveDay[]> => archiveFilesByDay(dir);

  const clean = (): Promise<unknown> =>
    pool.query(`DELETE FROM events WHERE timestamp >= $1::date AND timestamp < $2::date + 1`, [DAY, EMPTY]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'the-eye-archive-'));
    const config = loadConfig(testEnv({ ARCHIVE_DIR: dir }));
    pool = new Pool({ connectionString: config.databaseUrl, max: 4 });
    await clean();
    // `events` is partitioned by day: the fixture's days need theirs.
    for (const day of [DAY, NEXT]) await pool.query('SELECT the_eye_create_event_partition($1::date)', [day]);
    await pool.query(
      `INSERT INTO events (id, session_id, category, name, data, timestamp, received_at, client_id)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[],
         $7::timestamptz[], $8::text[])`,
      (
        ['id', 'session_id', 'category', 'name', 'data', 'timestamp', 'received_at', 'client_id'] as const
      ).map((k) => events.map((e) => e[k])),
    );
    @Global()
    @Module({
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: PG_POOL, useValue: pool },
        // The archive pass's dependencies, unused here.
        { provide: AuditService, useValue: {} },
        { provide: MetricsService, useValue: {} },
      ],
      exports: [APP_CONFIG, PG_POOL, AuditService, MetricsService],
    })
    class Deps {}
    moduleRef = await Test.createTestingModule({ imports: [Deps, ArchiveModule] }).compile();
    await moduleRef.init();
    writer = moduleRef.get(ArchiveWriter);
    reader = moduleRef.get(ArchiveReader);
    duckdb = moduleRef.get(DuckDbService);
    pg = new AnalyticsRepository(pool);
    pgFunnels = new FunnelsRepository(pool);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await clean();
    await pool?.end();
    await rm(dir, { recursive: true, force: true });
  });

  it('does not start DuckDB until the archive is used', () => {
    expect(duckdb.started).toBe(false);
  });

  it('writes one sorted zstd Parquet file per day, atomically, and nothing for an empty day', async () => {
    for (const day of [DAY, NEXT]) written[day] = await writer.writeDay(day);
    const perDay = (day: string): number => events.filter((e) => e.timestamp.startsWith(day)).length;
    expect(written[DAY]).toEqual({
      events: perDay(DAY),
      bytes: expect.any(Number),
      path: expect.any(String),
    });
    expect(written[NEXT].events).toBe(perDay(NEXT));
    expect(written[DAY].path).toMatch(new RegExp(`/events/date=${DAY}/part-[\\w-]+\\.parquet$`));
    expect(written[DAY].bytes).toBeGreaterThan(0);
    // Only the final file is left in the day's folder: the temporary name is gone.
    expect(await readdir(join(dir, 'events', `date=${DAY}`))).toEqual([written[DAY].path!.split('/').pop()]);
    expect(await writer.writeDay(EMPTY)).toEqual({ events: 0, bytes: 0, path: null });
    expect(await readdir(join(dir, 'events'))).toEqual([`date=${DAY}`, `date=${NEXT}`]);
    expect(duckdb.started).toBe(true);

    const sorted = await duckdb.use(async (c) =>
      (
        await c.runAndReadAll(
          `SELECT session_id, epoch_us(timestamp)::VARCHAR AS ts, seq::VARCHAR AS seq FROM read_parquet('${written[DAY].path}')`,
        )
      ).getRowObjects(),
    );
    const key = (r: Record<string, unknown>): [string, bigint, bigint] => [
      String(r.session_id),
      BigInt(String(r.ts)),
      BigInt(String(r.seq)),
    ];
    for (let i = 1; i < sorted.length; i++) {
      const [a, b] = [key(sorted[i - 1]), key(sorted[i])];
      expect(a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2])))).toBe(true);
    }
  });

  it('leaves neither a partial nor a temporary file when writing fails midway', async () => {
    const files = moduleRef.get(ArchiveFilesRepository);
    const copy = files.copyToParquet.bind(files);
    // The temporary file is fully written, then the step after it fails (as a full disk would).
    const spy = jest.spyOn(files, 'copyToParquet').mockImplementationOnce(async (c, table, path) => {
      await copy(c, table, path);
      throw new Error('disk full');
    });
    try {
      await expect(writer.writeDay(NEXT, 'failed.parquet')).rejects.toThrow('disk full');
    } finally {
      spy.mockRestore();
    }
    expect(await readdir(join(dir, 'events', `date=${NEXT}`))).toEqual([
      written[NEXT].path!.split('/').pop(),
    ]);
    await expect(writer.writeDay(NEXT, '../escape.parquet')).rejects.toThrow('archive file names');
  });

  it('keeps microseconds and the stored payload text end to end', async () => {
    const pgRows = await pg.events({ ...RANGE, name: PV.name, category: PV.category }, 'asc', null, 1000);
    const row = pgRows.find((r) => r.timestamp === MICROS_TS);
    expect(row).toBeDefined();
    const [archived] = await reader.events(
      await onDisk(),
      { sessionId: row!.session_id, from: MICROS_TS, to: MICROS_TS },
      'asc',
      null,
      10,
    );
    expect(archived).toEqual(row);
    expect(archived.timestamp).toBe('2011-03-07T09:15:27.243861Z');
  });

  /** Walks a list page by page through its cursor on both tiers; the pages must be identical. */
  async function samePages(filter: EventFilter, order: Order, take: number): Promise<EventRow[]> {
    const all: EventRow[] = [];
    let after: [string, string] | null = null;
    for (;;) {
      const [a, p]: [EventRow[], EventRow[]] = await Promise.all([
        reader.events(await onDisk(), filter, order, after, take),
        pg.events(filter, order, after, take),
      ]);
      expect(a).toEqual(p);
      all.push(...a);
      if (a.length < take) return all;
      after = [a[a.length - 1].timestamp, a[a.length - 1].seq];
    }
  }

  it.each<[string, EventFilter, Order, number]>([
    ['a session timeline (with a timestamp tie)', { sessionId: 'arch-s2' }, 'asc', 2],
    ['a session across midnight, newest first', { sessionId: 'arch-s11' }, 'desc', 3],
    ['a category+name page over two days', { ...RANGE, ...CTA }, 'asc', 4],
    [
      'a category+name page over one day',
      { from: `${DAY}T00:00:00Z`, to: `${DAY}T23:59:59.999999Z`, ...PV },
      'desc',
      5,
    ],
    ['a rare name alone', { ...RANGE, name: RARE.name }, 'asc', 10],
    [
      'a client in a range',
      { from: `${DAY}T03:00:00Z`, to: `${DAY}T15:00:00Z`, clientId: 'arch-c1' },
      'asc',
      7,
    ],
  ])('answers %s exactly like PostgreSQL, cursor by cursor', async (_what, filter, order, take) => {
    const rows = await samePages(filter, order, take);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('finds nothing, without error, for days the archive does not hold', async () => {
    expect(
      await reader.events(
        await onDisk(),
        { from: '2030-01-01T00:00:00Z', to: '2030-01-02T00:00:00Z' },
        'asc',
        null,
        10,
      ),
    ).toEqual([]);
  });

  it('streams an export of one type for a day in order, in chunks', async () => {
    const filter = { from: `${DAY}T00:00:00Z`, to: `${DAY}T23:59:59.999999Z`, ...PV };
    const chunks: EventRow[][] = [];
    for await (const chunk of reader.exportEvents(await onDisk(), filter)) chunks.push(chunk);
    expect(chunks.flat()).toEqual(await pg.events(filter, 'asc', null, 10_000));
  });

  it.each([
    ['day', 'UTC', 'name'],
    ['hour', 'UTC', 'category'],
    ['day', 'America/New_York', 'client_id'],
  ] as const)('counts per %s (%s) by %s like a GROUP BY on PostgreSQL', async (interval, tz, groupBy) => {
    const keys = { name: ['category', 'name'], category: ['category', `''`], client_id: ['client_id', `''`] }[
      groupBy
    ];
    const expected = await pool.query(
      `SELECT ${sqlTimestamp('b')} AS bucket, k1, k2, count(*)::text AS count FROM (
         SELECT date_trunc($1, timestamp, $2) AS b, ${keys[0]}::text AS k1, ${keys[1]}::text AS k2 FROM events
         WHERE timestamp >= $3::timestamptz AND timestamp <= $4::timestamptz) x
       GROUP BY b, k1, k2 ORDER BY b, k1, k2`,
      [interval, tz, RANGE.from, RANGE.to],
    );
    const rows = await reader.counts(await onDisk(), { interval, tz, groupBy, filter: {}, ...RANGE });
    expect(rows).toEqual(expected.rows);
    expect(rows.length).toBeGreaterThan(2);
  });

  it.each<[string, Partial<FunnelQuery>]>([
    ['over two days', {}],
    ['with a short window', { withinMs: 15 * 60_000 }],
    ['for one client', { clientId: 'arch-c0' }],
    ['over the first day only (a window reaching past midnight)', { to: `${DAY}T23:59:59.999999Z` }],
  ])('counts a 3-step funnel %s like PostgreSQL', async (_what, over) => {
    const q: FunnelQuery = { steps: [PV, CTA, SUBMIT], withinMs: 3_600_000, ...RANGE, ...over };
    const [archived, expected] = await Promise.all([
      reader.sessionsPerStep(await onDisk(), q),
      pgFunnels.sessionsPerStep(q),
    ]);
    expect(archived).toEqual(expected);
    expect(archived[0]).toBeGreaterThan(0);
  });

  it('counts a funnel whose steps repeat a type like PostgreSQL', async () => {
    const q: FunnelQuery = { steps: [PV, PV, CTA], withinMs: 86_400_000, ...RANGE };
    const [archived, expected] = await Promise.all([
      reader.sessionsPerStep(await onDisk(), q),
      pgFunnels.sessionsPerStep(q),
    ]);
    expect(archived).toEqual(expected);
    expect(archived[2]).toBeGreaterThan(0);
  });

  it('is read by an independent Parquet reader (hyparquet) as written', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      join(__dirname, 'helpers', 'hyparquet-read.ts'),
      written[DAY].path!,
    ]);
    const file = JSON.parse(stdout) as {
      schema: { name: string; type?: string; logical?: string; unit?: unknown; utc?: boolean }[];
      codecs: string[];
      rows: Record<string, string>[];
    };
    expect(file.codecs).toEqual(['ZSTD']);
    const ts = { type: 'INT64', logical: 'TIMESTAMP', unit: 'MICROS', utc: true };
    expect(file.schema.slice(1)).toEqual([
      { name: 'id', type: 'FIXED_LEN_BYTE_ARRAY', logical: 'UUID' },
      { name: 'seq', type: 'INT64', logical: 'INT_64' },
      { name: 'session_id', type: 'BYTE_ARRAY', logical: 'UTF8' },
      { name: 'category', type: 'BYTE_ARRAY', logical: 'UTF8' },
      { name: 'name', type: 'BYTE_ARRAY', logical: 'UTF8' },
      { name: 'timestamp', ...ts },
      { name: 'received_at', ...ts },
      { name: 'client_id', type: 'BYTE_ARRAY', logical: 'UTF8' },
      { name: 'data', type: 'BYTE_ARRAY', logical: 'UTF8' },
    ]);
    // What PostgreSQL holds for the day, with the timestamps as epoch microseconds.
    const { rows: expected } = await pool.query<Record<string, string>>(
      `SELECT id::text AS id, seq::text AS seq, session_id, category, name, data::text AS data, client_id,
         (extract(epoch FROM timestamp) * 1000000)::bigint::text AS timestamp_us,
         (extract(epoch FROM received_at) * 1000000)::bigint::text AS received_at_us,
         to_char(date_trunc('milliseconds', timestamp) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS timestamp_ms
       FROM events WHERE timestamp >= $1::date AND timestamp < $1::date + 1 ORDER BY session_id, timestamp, seq`,
      [DAY],
    );
    expect(file.rows).toEqual(expected);
    expect(file.rows.find((r) => r.timestamp_us.endsWith('243861'))?.timestamp_ms).toBe(
      '2011-03-07T09:15:27.243Z',
    );
  });
});

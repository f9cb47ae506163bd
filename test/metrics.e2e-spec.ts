import { getQueueToken } from '@nestjs/bull';
import type { JobOptions, Queue } from 'bull';
import Redis from 'ioredis';
import { MetricsService } from '../src/metrics/metrics.service';
import { EVENTS_QUEUE, QUEUED_EVENTS_KEY } from '../src/queue/queue.contract';
import { adminToken, http, registerClient, startApp, type TestApp } from './helpers/app';
import { TEST_REDIS_URL } from './helpers/env';
import type { ErrorDto } from './helpers/wire';

/**
 * Parses the Prometheus text format into `name{labels}` → value, checking every line's shape
 * (prom-client writes NaN as `Nan`, which Prometheus parses case-insensitively).
 */
function parseExposition(text: string): { values: Map<string, number>; types: Map<string, string> } {
  const values = new Map<string, number>();
  const types = new Map<string, string>();
  const helps = new Set<string>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    if (line === '') continue; // prom-client separates families with a blank line, which the format allows
    if (line.startsWith('# HELP ')) {
      helps.add(line.split(' ')[2]);
      continue;
    }
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary)$/.exec(line);
    if (type) {
      expect(helps.has(type[1])).toBe(true);
      types.set(type[1], type[2]);
      continue;
    }
    const sample =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[a-z_]+="[^"]*"(?:,[a-z_]+="[^"]*")*\})?) (NaN|Nan|[+-]Inf|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/.exec(
        line,
      );
    expect({ line, valid: sample !== null }).toEqual({ line, valid: true });
    const name = sample![1].replace(/\{.*/, '');
    // Histograms and summaries (prom-client's default GC metrics) expose _bucket/_sum/_count samples.
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(family)).toBe(true);
    values.set(sample![1], Number(sample![2]));
  }
  return { values, types };
}

interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { tags: string[]; security: unknown[]; responses: Record<string, { content?: object }> }>
  >;
}

const COUNTERS = [
  'the_eye_events_accepted_total',
  'the_eye_events_refused_total',
  'the_eye_events_stored_total',
  'the_eye_events_duplicate_total',
  'the_eye_events_quarantined_total',
  'the_eye_jobs_completed_total',
  'the_eye_jobs_failed_total',
];

describe('GET /metrics (e2e)', () => {
  // One app at a time (each binds its own port, Redis connections and worker).
  describe('with an admin token (ROLE=api, so no worker takes the jobs this test adds)', () => {
    let t: TestApp;
    let redis: Redis;
    beforeAll(async () => {
      t = await startApp({ ROLE: 'api' });
      redis = new Redis(TEST_REDIS_URL);
    });
    afterAll(async () => {
      redis.disconnect();
      await t?.close();
    });

    it('answers 401 without a token, 401 with a bad token and 403 without the admin scope', async () => {
      const none = await http<ErrorDto>(`${t.url}/metrics`);
      expect(none.status).toBe(401);
      expect(none.body.code).toBe('unauthorized');
      expect((await http(`${t.url}/metrics`, { token: 'not-a-token' })).status).toBe(401);
      const reader = await registerClient(t.url, ['events:read', 'events:write'], 'metrics reader');
      const forbidden = await http<ErrorDto>(`${t.url}/metrics`, { token: reader.token });
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.code).toBe('forbidden');
    });

    it('serves every counter and gauge in the Prometheus text format', async () => {
      const res = await http<string>(`${t.url}/metrics`, { token: await adminToken(t.url) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const { values, types } = parseExposition(res.body);
      for (const name of COUNTERS) {
        expect({ name, type: types.get(name) }).toEqual({ name, type: 'counter' });
        expect(values.get(name)).toBeGreaterThanOrEqual(0);
      }
      for (const name of [
        'the_eye_queue_backlog_events',
        'the_eye_queue_jobs',
        'the_eye_processing_lag_seconds',
        'the_eye_queue_oldest_waiting_job_age_seconds',
        'process_resident_memory_bytes',
        'nodejs_heap_size_used_bytes',
      ]) {
        expect({ name, type: types.get(name) }).toEqual({ name, type: 'gauge' });
      }
      for (const state of ['waiting', 'active', 'delayed', 'failed']) {
        expect(values.get(`the_eye_queue_jobs{state="${state}"}`)).toBeGreaterThanOrEqual(0);
      }
      expect(values.get('the_eye_redis_up')).toBe(1);
      expect(values.get('process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
      expect(values.get('the_eye_info{role="api"}')).toBe(1);
    });

    it("reports event-loop stalls and GC pauses with prom-client's default metrics, once", async () => {
      const token = await adminToken(t.url);
      const scrape = async (): Promise<ReturnType<typeof parseExposition>> =>
        parseExposition((await http<string>(`${t.url}/metrics`, { token })).body);
      await scrape(); // starts a new window of the event-loop histogram
      // The histogram (monitorEventLoopDelay, 10 ms resolution) forgets the tick in progress when a
      // scrape resets it: a stall is seen from the first tick after the scrape on. Under Jest that
      // tick can come hundreds of ms late (since the app imports the ESM-only uuid through Jest's
      // transform; the built service records a stall that starts 50 ms after a scrape): wait 500 ms.
      await new Promise((r) => setTimeout(r, 500));
      const until = Date.now() + 300;
      while (Date.now() < until); // the app runs in this process: block its event loop for 300 ms
      global.gc?.();
      const after = await scrape();
      expect(after.values.get('nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.29);
      expect(after.values.get('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
      expect(after.types.get('nodejs_gc_duration_seconds')).toBe('histogram');
      const gcCounts = [...after.values].filter(([k]) => k.startsWith('nodejs_gc_duration_seconds_count{'));
      expect(gcCounts.reduce((n, [, v]) => n + v, 0)).toBeGreaterThan(0);
      // One source: no second, hand-made family for the same figures.
      for (const name of [
        'nodejs_eventloop_delay_seconds',
        'nodejs_gc_max_pause_seconds',
        'nodejs_gc_pause_seconds_total',
      ])
        expect({ name, exported: after.types.has(name) }).toEqual({ name, exported: false });
      // The next window starts clean: no 300 ms stall in it (a busy machine adds stalls of its own).
      const next = await scrape();
      expect(next.values.get('nodejs_eventloop_lag_max_seconds')).toBeLessThan(0.29);
    });

    it("reflects this process's counters and the shared queue state", async () => {
      const token = await adminToken(t.url);
      const metrics = t.app.get(MetricsService);
      const queue = t.app.get<Queue>(getQueueToken(EVENTS_QUEUE));
      // Jobs other spec files left waiting (no worker runs here) would be older than this test's.
      await queue.empty();
      const scrape = async (): Promise<Map<string, number>> =>
        parseExposition((await http<string>(`${t.url}/metrics`, { token })).body).values;

      const before = await scrape();
      metrics.counters.eventsAccepted += 3;
      metrics.counters.eventsStored += 2;
      metrics.lastProcessingLagSeconds = 0.25;
      const ids = ['00000000-0000-7000-8000-00000000a001', '00000000-0000-7000-8000-00000000a002'];
      await redis.hset(QUEUED_EVENTS_KEY, ids[0], 'metrics-test', ids[1], 'metrics-test');
      const waiting = await queue.add({ v: 1, events: [] }, { timestamp: Date.now() - 60_000 } as JobOptions);
      const delayed = await queue.add({ v: 1, events: [] }, { delay: 3_600_000 });
      try {
        const after = await scrape();
        expect(after.get('the_eye_events_accepted_total')).toBe(
          before.get('the_eye_events_accepted_total')! + 3,
        );
        expect(after.get('the_eye_events_stored_total')).toBe(before.get('the_eye_events_stored_total')! + 2);
        expect(after.get('the_eye_processing_lag_seconds')).toBe(0.25);
        expect(after.get('the_eye_queue_backlog_events')).toBe(
          before.get('the_eye_queue_backlog_events')! + 2,
        );
        expect(after.get('the_eye_queue_jobs{state="waiting"}')).toBe(
          before.get('the_eye_queue_jobs{state="waiting"}')! + 1,
        );
        expect(after.get('the_eye_queue_jobs{state="delayed"}')).toBe(
          before.get('the_eye_queue_jobs{state="delayed"}')! + 1,
        );
        expect(after.get('the_eye_queue_oldest_waiting_job_age_seconds')).toBeGreaterThanOrEqual(60);
      } finally {
        await redis.hdel(QUEUED_EVENTS_KEY, ...ids);
        await waiting.remove();
        await delayed.remove();
      }
    });

    it('is documented under "operations" as text/plain with the admin scope (OAuth2 or bearer)', async () => {
      const doc = await http<OpenApiDoc>(`${t.url}/docs-json`);
      const op = doc.body.paths['/metrics'].get;
      expect(op.tags).toEqual(['operations']);
      expect(op.security).toEqual([{ oauth2: ['admin'] }, { bearer: [] }]);
      expect(Object.keys(op.responses['200'].content ?? {})).toEqual(['text/plain']);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
    });
  });

  describe('with METRICS_PUBLIC=true', () => {
    it('answers without a token', async () => {
      const t = await startApp({ METRICS_PUBLIC: 'true' });
      try {
        const res = await http<string>(`${t.url}/metrics`);
        expect(res.status).toBe(200);
        expect(parseExposition(res.body).values.get('the_eye_redis_up')).toBe(1);
      } finally {
        await t.close();
      }
    });
  });

  describe('while Redis is unreachable', () => {
    it('still answers within 2 s, with the Redis gauges NaN', async () => {
      const t = await startApp({ METRICS_PUBLIC: 'true', REDIS_URL: 'redis://127.0.0.1:1/0' });
      try {
        const started = Date.now();
        const res = await http<string>(`${t.url}/metrics`);
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(res.status).toBe(200);
        const { values } = parseExposition(res.body);
        expect(values.get('the_eye_redis_up')).toBe(0);
        expect(values.get('the_eye_queue_backlog_events')).toBeNaN();
        expect(values.get('the_eye_queue_jobs{state="waiting"}')).toBeNaN();
        expect(values.get('the_eye_queue_oldest_waiting_job_age_seconds')).toBeNaN();
        expect(values.get('the_eye_events_accepted_total')).toBeGreaterThanOrEqual(0);
      } finally {
        await t.close();
      }
    });
  });
});

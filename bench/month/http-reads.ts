// The reads through the running service's HTTP API, over the month as the service holds it
// (archived days and hot days alike): one untimed warm-up request per query, then requests one at
// a time; p95 over `requests` unless the query is slow (funnels, exports: noted in the report).
import { request } from 'node:http';

export const PV = { category: 'page interaction', name: 'pageview' };
export const CTA = { category: 'page interaction', name: 'cta click' };
export const SUBMIT = { category: 'form interaction', name: 'submit' };

export interface Timing {
  n: number;
  p50: number;
  p95: number;
  max: number;
  /** Requests that did not answer 200 (each is also timed). */
  failed: number;
  note?: string;
}

export interface ReadPlan {
  base: string;
  token: string;
  /** Every day of the month, in order (YYYY-MM-DD). */
  days: string[];
  /** Sessions to read, spread over the days. */
  sessions: string[];
  requests: number;
  funnelRequests: number;
  /** Days whose export is timed (an archived day, a hot day). */
  exportDays: string[];
}

/** GET or POST; resolves with the status and the body's size once it is fully read. */
function call(
  base: string,
  token: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; bytes: number; lines: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${base}${path}`,
      {
        method: payload ? 'POST' : 'GET',
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
        },
        timeout: 600_000,
      },
      (res) => {
        let bytes = 0;
        let lines = 0;
        const head: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
          if (bytes < 65_536) head.push(chunk);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, bytes, lines, text: Buffer.concat(head).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${path}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const qs = (o: Record<string, string | number | undefined>): string =>
  Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');

async function timed(
  n: number,
  run: (i: number) => Promise<{ status: number; text: string }>,
  log: (s: string) => void,
  what: string,
  warmUp = true,
): Promise<Timing> {
  const warm = warmUp ? await run(0) : { status: 200, text: '' };
  if (warm.status !== 200) log(`${what}: warm-up answered ${warm.status}: ${warm.text.slice(0, 300)}`);
  const ms: number[] = [];
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await run(i);
    ms.push(performance.now() - t0);
    if (r.status !== 200) {
      failed++;
      if (failed <= 3) log(`${what}: ${r.status} ${r.text.slice(0, 300)}`);
    }
  }
  ms.sort((a, b) => a - b);
  const at = (q: number): number => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)];
  const t = { n, p50: at(0.5), p95: at(0.95), max: ms[ms.length - 1], failed };
  log(
    `${what}: p50 ${t.p50.toFixed(0)} ms, p95 ${t.p95.toFixed(0)} ms, max ${t.max.toFixed(0)} ms, failed ${failed}`,
  );
  return t;
}

export interface HttpReads {
  timeline: Timing;
  page_1day: Timing;
  page_month: Timing;
  rare_month: Timing;
  stats_month: Timing;
  stats_session_month: Timing;
  exports: { day: string; events: number; seconds: number; events_per_s: number; status: number }[];
  funnels: Record<string, Timing & { answer: string }>;
}

export type ReadKey = keyof HttpReads;
export const READ_KEYS: ReadKey[] = [
  'timeline',
  'page_1day',
  'page_month',
  'rare_month',
  'stats_month',
  'stats_session_month',
  'exports',
  'funnels',
];

/**
 * Runs the reads of `only` (all by default) and hands each result to `done` as soon as it is
 * measured (a long run keeps what it measured). `slowRequests`: the count of the scans (a rare
 * name, stats filtered by session) when 100 would take longer than the run has.
 */
export async function httpReads(
  p: ReadPlan & { only?: ReadKey[]; slowRequests: number },
  log: (s: string) => void,
  done: (key: ReadKey, value: unknown) => void,
): Promise<void> {
  const want = (k: ReadKey): boolean => !p.only || p.only.includes(k);
  const get = (path: string): Promise<{ status: number; text: string }> => call(p.base, p.token, path);
  const first = p.days[0];
  const last = p.days[p.days.length - 1];
  const month = { from: first, to: last };
  const dayAt = (i: number): string => p.days[i % p.days.length];

  if (want('timeline'))
    done(
      'timeline',
      await timed(
        p.sessions.length,
        (i) => get(`/v1/sessions/${encodeURIComponent(p.sessions[i])}/events?limit=100`),
        log,
        'session timeline',
      ),
    );
  if (want('page_1day'))
    done(
      'page_1day',
      await timed(
        p.requests,
        (i) => get(`/v1/events?${qs({ ...CTA, from: dayAt(i), to: dayAt(i), limit: 50 })}`),
        log,
        'events page, 1 day',
      ),
    );
  if (want('page_month'))
    done(
      'page_month',
      await timed(
        p.requests,
        (i) => get(`/v1/events?${qs({ ...CTA, ...month, limit: 50, order: i % 2 ? 'asc' : 'desc' })}`),
        log,
        `events page, ${p.days.length} days`,
      ),
    );
  if (want('rare_month'))
    done(
      'rare_month',
      await timed(
        p.slowRequests,
        (i) => get(`/v1/events?${qs({ name: 'reset', ...month, limit: 50, order: i % 2 ? 'asc' : 'desc' })}`),
        log,
        `rare name, ${p.days.length} days`,
      ),
    );
  const filters: Record<string, string | undefined>[] = [
    { group_by: 'name' },
    { category: PV.category },
    { ...CTA },
    { client_id: 'client-1', group_by: 'name' },
    { group_by: 'client_id' },
    { name: SUBMIT.name, group_by: 'category' },
  ];
  if (want('stats_month'))
    done(
      'stats_month',
      await timed(
        p.requests,
        (i) =>
          get(
            `/v1/stats/events?${qs({ interval: 'day', ...month, limit: 1000, ...filters[i % filters.length] })}`,
          ),
        log,
        `stats by day, ${p.days.length} days, filters rotated`,
      ),
    );
  if (want('stats_session_month'))
    done(
      'stats_session_month',
      await timed(
        Math.min(p.slowRequests, p.sessions.length),
        (i) => get(`/v1/stats/events?${qs({ interval: 'day', ...month, session_id: p.sessions[i] })}`),
        log,
        `stats by day, ${p.days.length} days, session_id filter`,
      ),
    );
  if (want('exports')) {
    const exports: HttpReads['exports'] = [];
    for (const day of p.exportDays) {
      const t0 = performance.now();
      const r = await call(
        p.base,
        p.token,
        `/v1/events/export?${qs({ ...PV, from: day, to: day, format: 'ndjson' })}`,
      );
      const seconds = (performance.now() - t0) / 1000;
      exports.push({
        day,
        events: r.lines,
        seconds,
        events_per_s: Math.round(r.lines / seconds),
        status: r.status,
      });
      log(`export ${day}: ${r.status} ${r.lines} events in ${seconds.toFixed(1)} s`);
    }
    done('exports', exports);
  }
  if (want('funnels')) {
    const funnels: HttpReads['funnels'] = {};
    for (const span of [1, 7, 30]) {
      const from = p.days[Math.max(0, p.days.length - span)];
      let answer = '';
      const t = await timed(
        p.funnelRequests,
        async () => {
          const r = await call(p.base, p.token, '/v1/funnels', {
            steps: [PV, CTA, SUBMIT],
            within: '30m',
            from,
            to: last,
          });
          answer = r.text.slice(0, 300);
          return r;
        },
        log,
        `funnel, ${span} day(s)`,
        // One request of a funnel that takes minutes is measured cold rather than not at all.
        p.funnelRequests > 1,
      );
      funnels[String(span)] = { ...t, answer };
      done('funnels', funnels);
    }
  }
}

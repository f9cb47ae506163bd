import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { http, registerClient, startApp, type TestApp, type TestClient } from './helpers/app';
import { launchBrowser } from './helpers/browser';
import { waitProcessed } from './helpers/db';

/**
 * SPEC (Dashboard): every number on the page agrees with the API for the same range. The page is
 * read in headless Chromium — chart total, legend, hover readout, top types, quarantine — and each
 * number is compared with what the API answers for the range the page says it shows.
 */
const DAY = 86_400_000;
const HOST = 'shop.example.com';

/** Monday 00:00 UTC some five weeks ago: a week no other spec file stores events in. */
const M0 = (() => {
  const d = new Date(Date.now() - 35 * DAY);
  const monday =
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - ((d.getUTCDay() + 6) % 7) * DAY;
  return monday;
})();
const M1 = M0 + 7 * DAY;

function event(ms: number, category: string, name: string, data: Record<string, unknown>) {
  return {
    id: randomUUID(),
    session_id: randomUUID(),
    category,
    name,
    data,
    timestamp: new Date(ms).toISOString(),
  };
}
const pageview = (ms: number) => event(ms, 'page interaction', 'pageview', { host: HOST, path: '/' });
const submit = (ms: number) =>
  event(ms, 'form interaction', 'submit', { host: HOST, path: '/checkout', form: { plan: 'pro' } });

// In the week [M0, M1): 4 pageviews and 2 submits. Around it: the Sunday before, and Monday M1 itself.
const inWeek = [
  pageview(M0 + 1 * DAY + 3_600_000),
  pageview(M0 + 2 * DAY + 7_200_000),
  pageview(M0 + 4 * DAY + 60_000),
  pageview(M1 - 60_000),
  submit(M0 + 3 * DAY),
  submit(M0 + 5 * DAY + 43_200_000),
];
const sundayBefore = pageview(M0 - 60_000);
const mondayAfter = [pageview(M1 + 1_800_000), pageview(M1 + 5 * 3_600_000), submit(M1 + 6 * 3_600_000)];
// Refused now (a key the pageview schema does not allow), for events that occurred in the week.
const refused = [1, 2, 3].map((d) =>
  event(M0 + d * DAY, 'page interaction', 'pageview', { host: HOST, path: '/', campaign: 'winter' }),
);
const recent = [pageview(Date.now() - 1_000), pageview(Date.now() - 2_000), submit(Date.now() - 3_000)];

describe('dashboard numbers agree with the API (headless Chromium, e2e)', () => {
  let t: TestApp;
  let browser: Browser;
  let reader: TestClient;

  beforeAll(async () => {
    t = await startApp();
    const writer = await registerClient(t.url, ['events:write'], 'numbers writer');
    reader = await registerClient(t.url, ['events:read'], 'numbers analyst');
    browser = await launchBrowser();
    const all = [...inWeek, sundayBefore, ...mondayAfter, ...refused, ...recent];
    const res = await http(`${t.url}/v1/events/batch`, { token: writer.token, json: { events: all } });
    expect(res.status).toBe(202);
    await waitProcessed(all.map((e) => e.id));
  });

  afterAll(async () => {
    await Promise.race([browser?.close(), new Promise((r) => setTimeout(r, 10_000).unref())]);
    t?.app.getHttpServer().closeAllConnections();
    await t?.close();
  });

  async function open(hash = '', timezoneId = 'UTC'): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, timezoneId });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${t.url}/dashboard${hash}`);
    await page.fill('input[name=client_id]', reader.clientId);
    await page.fill('input[name=client_secret]', reader.secret);
    await page.click('form#signin button[type=submit]');
    await page.locator('[data-testid=events-total] b').waitFor({ timeout: 15_000 });
    await page.locator('#top-types li, #top-types .note').first().waitFor({ timeout: 15_000 });
    await page.locator('#quarantine .summary table, #quarantine .summary .note').first().waitFor();
    return { page, errors };
  }

  /** The range the page says every panel counts, as API bounds (inclusive: to's previous µs). */
  async function shownRange(page: Page): Promise<{ from: string; to: string; interval: string; tz: string }> {
    const el = page.locator('[data-testid=range]');
    const get = async (k: string): Promise<string> => (await el.getAttribute(`data-${k}`)) ?? '';
    const to = new Date(Date.parse(await get('to')) - 1).toISOString().replace('Z', '999Z');
    return { from: await get('from'), to, interval: await get('interval'), tz: await get('tz') };
  }

  /** The API's counts for the range, summed by `key` ('' = everything). */
  async function apiCounts(
    range: { from: string; to: string; interval: string; tz: string },
    groupBy: 'category' | 'name',
  ): Promise<{ total: number; by: Map<string, number>; rows: any[] }> {
    // Every page: other spec files' events share the database and the hours, so there may be more
    // (bucket, group) rows than one page holds.
    const rows: any[] = [];
    let cursor: string | null = null;
    do {
      const q = new URLSearchParams({ ...range, group_by: groupBy, limit: '1000' });
      if (cursor) q.set('cursor', cursor);
      const res = await http(`${t.url}/v1/stats/events?${q.toString()}`, { token: reader.token });
      expect(res.status).toBe(200);
      rows.push(...res.body.data);
      cursor = res.body.next_cursor;
    } while (cursor);
    const by = new Map<string, number>();
    for (const r of rows) {
      const key = groupBy === 'name' ? `${r.category}/${r.name}` : r.category;
      by.set(key, (by.get(key) ?? 0) + r.count);
    }
    return { total: [...by.values()].reduce((s, n) => s + n, 0), by, rows };
  }

  /**
   * The API's counts per category as the legend shows them: one series per category, most events
   * first, at most 10 (the palette); beyond that the last series is "(other categories)", the sum of
   * the rest (other spec files' categories share the database).
   */
  function asLegend(by: Map<string, number>): Map<string, number> {
    const sorted = [...by].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (sorted.length <= 10) return by;
    const kept = new Map(sorted.slice(0, 9));
    kept.set(
      '(other categories)',
      sorted.slice(9).reduce((sum, [, n]) => sum + n, 0),
    );
    return kept;
  }

  /**
   * The API's counts per type as Top types shows them: types with events, most first (then by
   * name, as the page sorts), the first 12 (other spec files' types share the database).
   */
  function asTopTypes(rows: { category: string; name: string; count: number }[]): Map<string, number> {
    const byType = new Map<string, { name: string; count: number }>();
    for (const r of rows) {
      const key = `${r.category}/${r.name}`;
      const t = byType.get(key) ?? { name: r.name, count: 0 };
      t.count += r.count;
      byType.set(key, t);
    }
    const sorted = [...byType]
      .filter(([, t]) => t.count > 0)
      .sort((a, b) => b[1].count - a[1].count || a[1].name.localeCompare(b[1].name));
    return new Map(sorted.slice(0, 12).map(([key, t]) => [key, t.count]));
  }

  const num = (s: string): number => Number(s.replace(/[^\d]/g, ''));
  const shownTotal = async (page: Page): Promise<number> =>
    Number(await page.locator('[data-testid=events-total] b').getAttribute('data-count'));

  /** Legend and top types as the page shows them. */
  async function shownCounts(
    page: Page,
  ): Promise<{ legend: Map<string, number>; types: Map<string, number> }> {
    const legend = new Map<string, number>();
    for (const li of await page.locator('#events-over-time .legend li').all()) {
      legend.set((await li.getAttribute('data-category')) ?? '', num(await li.locator('.count').innerText()));
    }
    const types = new Map<string, number>();
    for (const li of await page.locator('#top-types li[data-type]').all()) {
      types.set((await li.getAttribute('data-type')) ?? '', num(await li.locator('.count').innerText()));
    }
    return { legend, types };
  }

  async function customRange(page: Page, from: string, to: string, interval: string): Promise<void> {
    await page.selectOption('select[name=range]', 'custom');
    await page.selectOption('select[name=interval]', interval);
    await page.fill('input[name=from]', from);
    await page.fill('input[name=to]', to);
    await page.locator('input[name=to]').dispatchEvent('change');
  }

  /** Saturated (bar-coloured) device pixels of the chart between two fractions of the plot's width. */
  function barPixels(page: Page, fromFraction: number, toFraction: number): Promise<number> {
    // Runs in the page (a string: this file is type-checked without the DOM library).
    return page.evaluate(`(() => {
      const [a, b] = [${fromFraction}, ${toFraction}];
      const canvas = document.querySelector('#events-over-time canvas');
      const over = document.querySelector('#events-over-time .u-over').getBoundingClientRect();
      const c = canvas.getBoundingClientRect();
      const scale = canvas.width / c.width;
      const x0 = Math.round((over.left - c.left + a * over.width) * scale);
      const x1 = Math.round((over.left - c.left + b * over.width) * scale);
      const y0 = Math.round((over.top - c.top) * scale);
      const img = canvas.getContext('2d').getImageData(x0, y0, Math.max(1, x1 - x0), Math.round(over.height * scale));
      let n = 0;
      for (let i = 0; i < img.data.length; i += 4) {
        const r = img.data[i], g = img.data[i + 1], bl = img.data[i + 2];
        if (Math.max(r, g, bl) - Math.min(r, g, bl) > 60) n++;
      }
      return n;
    })()`);
  }

  it('last 24 hours: the newest bucket is drawn, its hover, the totals, legend, top types and quarantine equal the API', async () => {
    const { page, errors } = await open();
    // The newest of the 25 hourly buckets (the current hour) holds the recent events: it is drawn.
    // (Unless an hour began since they were stored: then they are in the one before.)
    const hour = (ms: number): number => Math.floor(ms / 3_600_000);
    const slot = 24 - (hour(Date.now()) - hour(Date.parse(recent[0].timestamp)));
    expect(await barPixels(page, slot / 25, (slot + 1) / 25)).toBeGreaterThan(0);
    const range = await shownRange(page);
    expect(range.interval).toBe('hour');
    const byCategory = await apiCounts(range, 'category');
    const byName = await apiCounts(range, 'name');
    // Other spec files' events share the database and the last 24 hours: at least ours are there.
    expect(byCategory.total).toBeGreaterThanOrEqual(recent.length);
    expect(await shownTotal(page)).toBe(byCategory.total);
    const { legend, types } = await shownCounts(page);
    expect(legend).toEqual(asLegend(byCategory.by));
    expect(types).toEqual(asTopTypes(byName.rows));

    // The newest bucket: what the hover says is the API's count of it.
    expect(new Set(byCategory.rows.map((r) => r.bucket)).size).toBe(25);
    const over = await page.locator('#events-over-time .u-over').boundingBox();
    await page.mouse.move(over!.x + over!.width - 3, over!.y + over!.height / 2);
    const newest = byCategory.rows.filter((r) => r.bucket === byCategory.rows.at(-1).bucket);
    const readout = page.locator('#events-over-time .readout b');
    await readout.waitFor();
    expect(Number(await readout.getAttribute('data-count'))).toBe(newest.reduce((s, r) => s + r.count, 0));

    // The quarantine counts by refusal time, and says so; its numbers are the API's for the range.
    expect(await page.locator('#quarantine .hint').innerText()).toMatch(/by the time it refused them/);
    const q = await http(`${t.url}/v1/rejected-events/summary?from=${range.from}&to=${range.to}`, {
      token: reader.token,
    });
    const refusedTotal = q.body.data.reduce((s: number, r: any) => s + r.count, 0);
    // Other spec files quarantine events in the same hours of the shared database: at least ours.
    expect(refusedTotal).toBeGreaterThanOrEqual(refused.length);
    expect(num(await page.locator('#quarantine tfoot .num').innerText())).toBe(refusedTotal);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a custom Monday → Monday range means the same week in every panel, per day or per hour', async () => {
    const { page, errors } = await open();
    const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16);
    for (const interval of ['day', 'hour']) {
      await customRange(page, iso(M0), iso(M1), interval);
      await page
        .locator(`[data-testid=events-total] b[data-count="${inWeek.length}"]`)
        .waitFor({ timeout: 15_000 });
      await page.locator(`[data-testid=range][data-interval=${interval}]`).waitFor();
      const range = await shownRange(page);
      expect(range.from).toBe(new Date(M0).toISOString());
      expect(range.to).toBe(new Date(M1 - 1).toISOString().replace('Z', '999Z'));
      const byCategory = await apiCounts(range, 'category');
      expect(byCategory.total).toBe(inWeek.length);
      const { legend, types } = await shownCounts(page);
      expect(legend).toEqual(byCategory.by);
      expect(types).toEqual(asTopTypes((await apiCounts(range, 'name')).rows));
      expect([...types.values()].reduce((s, n) => s + n, 0)).toBe(inWeek.length);
      // The total is a total, labelled as one.
      const buckets = interval === 'day' ? 7 : 168;
      expect(await page.locator('[data-testid=events-total]').innerText()).toBe(
        `${inWeek.length} events in the range, in ${buckets} buckets of one ${interval}`,
      );
    }
    // Nothing was refused during that week (the three were refused today): the panel says which time it means.
    await page.locator('#quarantine .summary .note').waitFor();
    expect(await page.locator('#quarantine .summary .note').innerText()).toMatch(/by the time of refusal/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("times in the viewer's zone: days start at local midnight, and the numbers are the API's with that tz", async () => {
    const { page, errors } = await open('#range=24h&interval=hour&zone=local', 'Asia/Kolkata');
    // Wall-clock Monday 00:00 to Monday 00:00 typed in Kolkata (UTC+5:30): 5.5 hours before M0 and
    // M1, so the Sunday-evening event before M0 is in it, and the pageview a minute before M1 is not.
    const wall = (ms: number): string => new Date(ms).toISOString().slice(0, 16);
    await customRange(page, wall(M0), wall(M1), 'day');
    const expected = inWeek.length + 1 - 1; // + sundayBefore, - the pageview at M1 - 1 minute (Monday 05:29 there)
    await page.locator(`[data-testid=events-total] b[data-count="${expected}"]`).waitFor({ timeout: 15_000 });
    const range = await shownRange(page);
    // Chromium's ICU names the zone by its older canonical id; PostgreSQL knows both.
    expect(['Asia/Kolkata', 'Asia/Calcutta']).toContain(range.tz);
    expect(range.from).toBe(new Date(M0 - 5.5 * 3_600_000).toISOString());
    const byCategory = await apiCounts(range, 'category');
    expect(byCategory.total).toBe(expected);
    expect(new Set(byCategory.rows.map((r) => r.bucket)).size).toBe(7);
    const { legend, types } = await shownCounts(page);
    expect(legend).toEqual(byCategory.by);
    expect(types).toEqual(asTopTypes((await apiCounts(range, 'name')).rows));
    expect(await page.locator('[data-testid=range]').innerText()).toContain(
      `${wall(M0).slice(0, 10)} 00:00 GMT+5:30`,
    );

    // Back to UTC: the same instants, written in UTC.
    await page.selectOption('select[name=zone]', 'utc');
    await page.locator('[data-testid=range][data-tz=UTC]').waitFor();
    expect(await page.inputValue('input[name=from]')).toBe(
      new Date(M0 - 5.5 * 3_600_000).toISOString().slice(0, 16),
    );
    expect(errors).toEqual([]);
    await page.close();
  });
});

import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { adminToken, http, registerClient, startApp, type TestApp, type TestClient } from './helpers/app';
import { launchBrowser } from './helpers/browser';
import { waitProcessed } from './helpers/db';
import { TEST_ADMIN_ID, TEST_ADMIN_SECRET } from './helpers/env';
import type { EventDto } from './helpers/wire';

/** An event as posted, with the id the spec chose (to find it again). */
type Posted = EventDto & { id: string };

/**
 * Events in a window of their own (ten days ago), so the counts the page shows for that range are
 * exactly those of this file whatever other files stored: sessions of pageviews, CTA clicks and
 * form submits, a few minutes apart.
 */
function sessions(windowStart: number, count: number): Posted[] {
  const events: Posted[] = [];
  const host = 'shop.example.com';
  for (let s = 0; s < count; s++) {
    const sid = randomUUID();
    let t = windowStart + s * 7 * 60_000 + 1_000;
    const add = (category: string, name: string, data: Record<string, unknown>): void => {
      events.push({
        id: randomUUID(),
        session_id: sid,
        category,
        name,
        data,
        timestamp: new Date(t).toISOString(),
      });
      t += 45_000;
    };
    add('page interaction', 'pageview', { host, path: '/' });
    add('page interaction', 'pageview', { host, path: '/pricing' });
    if (s % 2 === 0) add('page interaction', 'cta click', { host, path: '/pricing', element: 'buy' });
    if (s % 3 === 0) add('form interaction', 'submit', { host, path: '/checkout', form: { plan: 'pro' } });
  }
  return events;
}

describe('dashboard (headless Chromium, e2e)', () => {
  let t: TestApp;
  let browser: Browser;
  let writer: TestClient;
  let reader: TestClient;
  const windowStart = Math.floor((Date.now() - 10 * 86_400_000) / 3_600_000) * 3_600_000;
  const posted = sessions(windowStart, 12);
  const quarantinedId = randomUUID();

  beforeAll(async () => {
    t = await startApp();
    writer = await registerClient(t.url, ['events:write'], 'dashboard writer');
    reader = await registerClient(t.url, ['events:read'], 'dashboard analyst');
    browser = await launchBrowser();
    const res = await http(`${t.url}/v1/events/batch`, { token: writer.token, json: { events: posted } });
    expect(res.status).toBe(202);
    // A pageview with a key its schema does not allow: quarantined as payload_invalid.
    const bad = await http(`${t.url}/v1/events`, {
      token: writer.token,
      json: {
        id: quarantinedId,
        session_id: randomUUID(),
        category: 'page interaction',
        name: 'pageview',
        data: { host: 'shop.example.com', path: '/', campaign: 'winter' },
        timestamp: new Date().toISOString(),
      },
    });
    expect(bad.status).toBe(202);
    await waitProcessed([...posted.map((e) => e.id), quarantinedId]);
  });

  afterAll(async () => {
    // A browser that does not close within 10 s must not hold the suite; its keep-alive sockets
    // would otherwise keep the app's close() waiting.
    await Promise.race([browser?.close(), new Promise((r) => setTimeout(r, 10_000).unref())]);
    t?.app.getHttpServer().closeAllConnections();
    await t?.close();
  });

  /** A page that records every page error and every request that leaves the test server. */
  async function openPage(): Promise<{
    page: Page;
    errors: string[];
    foreign: string[];
    apiCalls: string[];
  }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const foreign: string[] = [];
    const apiCalls: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('request', (req) => {
      const url = req.url();
      if (!url.startsWith(`${t.url}/`)) foreign.push(url);
      else if (new URL(url).pathname.startsWith('/v1/')) apiCalls.push(url);
    });
    await page.goto(`${t.url}/dashboard`);
    return { page, errors, foreign, apiCalls };
  }

  async function signIn(page: Page, clientId: string, secret: string): Promise<void> {
    await page.fill('input[name=client_id]', clientId);
    await page.fill('input[name=client_secret]', secret);
    await page.click('form#signin button[type=submit]');
    await page.waitForSelector('[data-testid=client-id]');
  }

  /** Waits until the chart's total (read from the page) is `n`. */
  const totalIs = (page: Page, n: number) =>
    page
      .locator(`[data-testid=events-total] b[data-count="${n}"]`)
      .waitFor({ timeout: 15_000 })
      .catch(async (err: Error) => {
        const shown = await page.locator('[data-testid=events-total] b').getAttribute('data-count');
        throw new Error(`chart total ${shown}, expected ${n}: ${err.message}`);
      });

  const text = (page: Page, selector: string): Promise<string> =>
    page.locator(selector).first().innerText({ timeout: 10_000 });

  it('serves the page and its hashed assets from the app, with cache headers, without a token', async () => {
    const page = await http(`${t.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const assets = [...String(page.body).matchAll(/\/dashboard\/assets\/([\w.-]+)/g)].map((m) => m[1]);
    expect(assets.some((a) => /^main-\w+\.js$/.test(a))).toBe(true);
    expect(assets.some((a) => /^main-\w+\.css$/.test(a))).toBe(true);
    for (const asset of assets) {
      const res = await fetch(`${t.url}/dashboard/assets/${asset}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    const missing = await http(`${t.url}/dashboard/assets/main-NOPE.js`);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
    const doc = await http(`${t.url}/docs-json`);
    expect(Object.keys(doc.body.paths).filter((p) => p.startsWith('/dashboard'))).toEqual([]);
    expect(doc.body.paths['/v1/ops/overview']).toBeDefined();
  });

  it('/dashboard/ (trailing slash) redirects to /dashboard, keeping the query and the view fragment', async () => {
    const res = await fetch(`${t.url}/dashboard/`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/dashboard');
    const withQuery = await fetch(`${t.url}/dashboard/?from=bookmark`, { redirect: 'manual' });
    expect(withQuery.headers.get('location')).toBe('/dashboard?from=bookmark');

    const page = await browser.newPage();
    await page.goto(`${t.url}/dashboard/#range=7d&interval=day`);
    await page.locator('form#signin').waitFor({ timeout: 10_000 });
    expect(new URL(page.url()).pathname).toBe('/dashboard');
    expect(new URL(page.url()).hash).toBe('#range=7d&interval=day');
    await page.close();
  });

  it('GET /v1/ops/overview: queue depth, lag and rates, for admins only', async () => {
    expect((await http(`${t.url}/v1/ops/overview`)).status).toBe(401);
    expect((await http(`${t.url}/v1/ops/overview`, { token: reader.token })).status).toBe(403);
    const admin = await adminToken(t.url);
    const first = await http(`${t.url}/v1/ops/overview`, { token: admin });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      redis: 'up',
      backlog_events: 0,
      processing_lag_seconds: expect.any(Number),
    });
    expect(first.body.queue).toEqual({
      waiting: expect.any(Number),
      active: expect.any(Number),
      delayed: expect.any(Number),
      failed: expect.any(Number),
    });
    await new Promise((r) => setTimeout(r, 1_100));
    const second = await http(`${t.url}/v1/ops/overview`, { token: admin });
    expect(second.body.ingestion.window_seconds).toBeGreaterThanOrEqual(1);
    expect(second.body.ingestion.accepted_per_second).toEqual(expect.any(Number));
  });

  it('signs in, charts the posted counts, shows the quarantine and a session timeline; nothing leaves the origin', async () => {
    const { page, errors, foreign } = await openPage();
    await signIn(page, reader.clientId, reader.secret);

    // The quarantined pageview, with its reason and the offending key (default range: last 24 hours).
    const sample = page.locator(`#quarantine li[data-id="${quarantinedId}"]`);
    await sample.waitFor({ timeout: 15_000 });
    expect(await sample.locator('.badge.reason').allInnerTexts()).toEqual(['payload_invalid']);
    expect(await sample.locator('.errors').innerText()).toMatch(/campaign/);
    // …and counted by reason and type in the summary above the samples.
    await page
      .locator('#quarantine .summary tbody tr')
      .filter({ hasText: 'payload_invalid' })
      .filter({ hasText: 'page interaction / pageview' })
      .waitFor({ timeout: 10_000 });

    // The window of the posted events: counts per category and in total, read from the legend.
    await page.selectOption('select[name=range]', 'custom');
    const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16);
    await page.fill('input[name=from]', iso(windowStart));
    await page.fill('input[name=to]', iso(windowStart + 2 * 3_600_000));
    await page.locator('input[name=to]').dispatchEvent('change');
    const byCategory = (cat: string): number => posted.filter((e) => e.category === cat).length;
    await totalIs(page, posted.length);
    expect(await text(page, '#events-over-time li[data-category="page interaction"] .count')).toBe(
      String(byCategory('page interaction')),
    );
    expect(await text(page, '#events-over-time li[data-category="form interaction"] .count')).toBe(
      String(byCategory('form interaction')),
    );
    expect(await page.locator('#events-over-time canvas').count()).toBeGreaterThan(0);
    const pageviews = posted.filter((e) => e.name === 'pageview').length;
    expect(await text(page, '#top-types li[data-type="page interaction/pageview"] .count')).toBe(
      String(pageviews),
    );

    // A session's timeline: its events in order, with their payloads.
    const sid = posted[0].session_id;
    const own = posted.filter((e) => e.session_id === sid);
    await page.fill('input[name=session_id]', sid);
    await page.click('#session button[type=submit]');
    await page
      .locator('#session .events > li')
      .nth(own.length - 1)
      .waitFor({ timeout: 10_000 });
    expect(await page.locator('#session .events > li .name').allInnerTexts()).toEqual(own.map((e) => e.name));
    expect(await page.locator('#session .events > li .payload').nth(1).innerText()).toContain('"/pricing"');

    // A funnel over the window: every session viewed a page, every other one then clicked the CTA.
    const steps = page.locator('#funnel .steps > li');
    await steps.nth(0).locator('input[name=category]').fill('page interaction');
    await steps.nth(0).locator('input[name=name]').fill('pageview');
    await steps.nth(1).locator('input[name=category]').fill('page interaction');
    await steps.nth(1).locator('input[name=name]').fill('cta click');
    await page.click('#funnel button[type=submit]');
    const funnel = page.locator('#funnel .funnel-result li .count');
    await funnel.nth(1).waitFor({ timeout: 10_000 });
    const sessionsWith = (name: string): number =>
      new Set(posted.filter((e) => e.name === name).map((e) => e.session_id)).size;
    expect((await funnel.allInnerTexts()).map((s) => s.split(' ')[0])).toEqual([
      String(sessionsWith('pageview')),
      String(sessionsWith('cta click')),
    ]);
    const utcText = (ms: number): string =>
      `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
    const answered = (from: number, to: number): RegExp =>
      new RegExp(`^Over ${utcText(from)} – ${utcText(to)}, answered in \\d+\\.\\d s\\.$`);
    expect(await text(page, '#funnel .funnel-result p.small')).toMatch(
      answered(windowStart, windowStart + 2 * 3_600_000),
    );

    // Over a longer range a funnel counts the range's last 24 hours (here after the sessions) unless
    // asked for the whole range: its cost grows with the step-1 events it reads.
    await page.fill('input[name=to]', iso(windowStart + 30 * 3_600_000));
    await page.locator('input[name=to]').dispatchEvent('change');
    await page.click('#funnel button[type=submit]');
    await page.locator('#funnel .funnel-result .note-empty').waitFor({ timeout: 10_000 });
    expect(await text(page, '#funnel .funnel-result p.small')).toMatch(
      answered(windowStart + 6 * 3_600_000, windowStart + 30 * 3_600_000),
    );
    await page.selectOption('#funnel select[name=span]', 'range');
    await page.click('#funnel button[type=submit]');
    await funnel.nth(1).waitFor({ timeout: 10_000 });
    expect((await funnel.allInnerTexts()).map((s) => s.split(' ')[0])).toEqual([
      String(sessionsWith('pageview')),
      String(sessionsWith('cta click')),
    ]);

    // The token lives in memory only.
    expect(await page.evaluate('[localStorage.length, sessionStorage.length, document.cookie]')).toEqual([
      0,
      0,
      '',
    ]);
    expect(await page.context().cookies()).toEqual([]);
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  });

  it('refreshes on its own while visible, pauses while hidden, and signs out on a 401', async () => {
    const { page, errors, foreign, apiCalls } = await openPage();
    await signIn(page, reader.clientId, reader.secret);
    const total = page.locator('[data-testid=events-total] b');
    await total.waitFor();
    const before = Number(await total.getAttribute('data-count'));

    // A new event shows up without any click.
    const id = randomUUID();
    await http(`${t.url}/v1/events`, {
      token: writer.token,
      json: {
        id,
        session_id: randomUUID(),
        category: 'page interaction',
        name: 'pageview',
        data: { host: 'a.example', path: '/' },
        timestamp: new Date().toISOString(),
      },
    });
    await waitProcessed([id]);
    await totalIs(page, before + 1);

    // Hidden tab: no request for longer than the refresh period.
    const setVisibility = (state: 'hidden' | 'visible') =>
      page.evaluate(
        `Object.defineProperty(document, 'visibilityState', { value: '${state}', configurable: true });
         document.dispatchEvent(new Event('visibilitychange'))`,
      );
    await setVisibility('hidden');
    await page.waitForTimeout(500);
    const calls = apiCalls.length;
    await page.waitForTimeout(6_000);
    expect(apiCalls.length).toBe(calls);
    await setVisibility('visible');
    await page.waitForTimeout(1_000);
    expect(apiCalls.length).toBeGreaterThan(calls);

    // The client is revoked: the next refresh gets a 401 and the page is back to the sign-in form.
    const admin = await adminToken(t.url);
    expect(
      (await http(`${t.url}/v1/clients/${reader.clientId}`, { method: 'DELETE', token: admin })).status,
    ).toBe(200);
    await page
      .locator('form#signin .form-error')
      .filter({ hasText: 'sign in again' })
      .waitFor({ timeout: 15_000 });
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  });

  it('admins see the pipeline; an empty range gives empty states, not errors', async () => {
    const { page, errors, foreign } = await openPage();
    await signIn(page, TEST_ADMIN_ID, TEST_ADMIN_SECRET);
    const backlog = page.locator('#ops [data-metric=backlog] .value');
    await backlog.waitFor({ timeout: 10_000 });
    expect(await backlog.innerText()).toMatch(/^\d[\d,]*$/);
    expect(await page.locator('#ops [data-metric=lag] .value').innerText()).toMatch(/^\d+\.\d{3}$/);

    await page.selectOption('select[name=range]', 'custom');
    await page.fill('input[name=from]', '2001-01-01T00:00');
    await page.fill('input[name=to]', '2001-01-02T00:00');
    await page.locator('input[name=to]').dispatchEvent('change');
    await page.locator('#events-over-time .note-empty').waitFor({ timeout: 10_000 });
    await page.locator('#top-types .note-empty').waitFor();
    await page.locator('#quarantine .samples .note-empty').waitFor();
    expect(
      await page.locator('#events-over-time [data-testid=events-total] b').getAttribute('data-count'),
    ).toBe('0');
    const panelErrors =
      '#events-over-time .note-error, #top-types .note-error, #quarantine .samples .note-error, #session .note-error, #ops .note-error';
    expect(await page.locator(panelErrors).count()).toBe(0);
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  });
});

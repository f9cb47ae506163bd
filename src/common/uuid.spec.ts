import { checkEnvelope } from '../ingestion/envelope';
import { eventIdOf } from '../segment/segment-mapping';
import fc from 'fast-check';
import { v5 } from 'uuid';
import { uuidv5 } from './uuid';

const UUID_V7_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const LIMITS = { maxDepth: 32, maxBytes: 65_536 };

/** The id the server assigns to an event sent without one. */
const serverAssignedId = (): string => {
  const event = { session_id: 's', category: 'c', name: 'n', data: {}, timestamp: '2021-01-01T00:00:00Z' };
  const r = checkEnvelope(event, '', '2021-01-01T00:00:01.000000Z', 'client-1', LIMITS);
  if (!r.ok) throw new Error('expected a valid envelope');
  return r.event.id;
};

const expectStrictlyIncreasing = (ids: string[]): void => {
  for (let i = 1; i < ids.length; i++) {
    if (!(ids[i - 1] < ids[i])) throw new Error(`id ${i} (${ids[i]}) does not sort after ${ids[i - 1]}`);
  }
};

describe('server-assigned UUIDv7', () => {
  afterEach(() => jest.restoreAllMocks());

  it('gives UUIDv7s carrying the millisecond of their creation', () => {
    const now = Date.parse('2026-12-07T10:00:00.123Z');
    jest.spyOn(Date, 'now').mockReturnValue(now);
    const id = serverAssignedId();
    expect(id).toMatch(UUID_V7_RE);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
  });

  it('is monotonic within one millisecond (RFC 9562 §6.2): 20,000 ids of one ms strictly increase', () => {
    jest.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-12-07T10:00:00.456Z'));
    expectStrictlyIncreasing(Array.from({ length: 20_000 }, serverAssignedId));
  });

  it('is monotonic across a tight loop on the real clock, Segment ids without messageId included', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) =>
      i % 2 ? serverAssignedId() : eventIdOf('client-1', undefined),
    );
    expectStrictlyIncreasing(ids);
  });
});

describe('UUIDv5', () => {
  it('matches RFC 9562 (the DNS namespace example: python.org)', () => {
    const dns = Buffer.from('6ba7b8109dad11d180b400c04fd430c8', 'hex');
    expect(uuidv5('python.org', dns)).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
  });

  it("gives the uuid package's v5 of the UTF-8 name, short or long", () => {
    const ns = Buffer.from('5e6d3f3a1c8b4e0f9a2d7b6c4e1f0a93', 'hex');
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ minLength: 340, maxLength: 2000 })),
        (name) => expect(uuidv5(name, ns)).toBe(v5(Buffer.from(name, 'utf8'), ns)),
      ),
    );
  });

  // Computed by the implementation that stored the existing Segment events: a retried message
  // must keep its id across an upgrade, or it would be stored twice.
  it.each([
    ['ASCII', 'cli_a', 'm-1', '3c0accef-bf54-53d2-a9a7-6d9d3e1ef9fe'],
    ['a numeric messageId', 'cli_a', 42, '8917898d-e550-5b1f-b113-2f8d4c693543'],
    [
      'an SDK messageId',
      'cli_0b6f3c1e',
      'ajs-next-1700000000000-5f1e7c2a',
      'b8434aa9-f40c-5a28-a931-2223825419b2',
    ],
    ['non-ASCII', 'cli_a', 'café ☕ 𝄞', '8fe23987-bea0-50ec-a627-9bdb6af2344a'],
    ['a lone surrogate', 'cli_a', 'lone \ud800 surrogate', 'f6681dec-4c83-59e3-915f-9f1eb77265b0'],
    ['2,000 characters', 'cli_a', 'x'.repeat(2000), '802863a8-5394-5bbd-bd4d-1cae6b34509f'],
  ])('keeps the id of a messageId with %s', (_what, clientId, messageId, id) => {
    expect(eventIdOf(clientId, messageId)).toBe(id);
  });
});

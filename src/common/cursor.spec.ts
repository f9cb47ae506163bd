import { ApiError } from './api-error';
import { type KeyPart, decodeCursor, encodeCursor } from './cursor';

const SHAPE: readonly KeyPart[] = ['ts', 'seq'];
const POSITION = ['2021-01-01T09:15:27.243860Z', '42'];

/** The ApiError `fn` throws (fails the test when it throws nothing or something else). */
function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected a refusal');
}

const doc = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('cursor', () => {
  it('gives back the position it was issued with, for the same list and order', () => {
    const sut = encodeCursor('events', 'asc', POSITION);
    expect(sut).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(sut, 'events', 'asc', SHAPE)).toEqual(POSITION);
  });

  it('accepts an empty `key` part but not an empty `text` part', () => {
    expect(decodeCursor(encodeCursor('s', 'desc', ['']), 's', 'desc', ['key'])).toEqual(['']);
    expect(refusal(() => decodeCursor(encodeCursor('s', 'desc', ['']), 's', 'desc', ['text'])).status).toBe(
      400,
    );
  });

  it('tells the caller which order a cursor of the other order was issued for', () => {
    const err = refusal(() => decodeCursor(encodeCursor('events', 'desc', POSITION), 'events', 'asc', SHAPE));
    expect({ status: err.status, code: err.code, message: err.message, errors: err.errors }).toEqual({
      status: 400,
      code: 'validation_failed',
      message: 'Invalid cursor',
      errors: [
        { path: '/cursor', message: 'cursor was issued for order=desc; repeat the request with that order' },
      ],
    });
  });

  it.each([
    ['not base64url', 'abc+/='],
    ['truncated', encodeCursor('events', 'asc', POSITION).slice(0, 20)],
    ['not JSON', Buffer.from('hello').toString('base64url')],
    ['an array', doc([1, 'events', 'asc', POSITION])],
    ['another version', doc({ v: 2, k: 'events', o: 'asc', p: POSITION })],
    ['from another list', encodeCursor('sessions', 'asc', POSITION)],
    ['of another order value', doc({ v: 1, k: 'events', o: 'up', p: POSITION })],
    ['with a part missing', encodeCursor('events', 'asc', POSITION.slice(0, 1))],
    ['with a part too many', encodeCursor('events', 'asc', [...POSITION, 'x'])],
    ['with a timestamp not in µs form', encodeCursor('events', 'asc', ['2021-01-01T09:15:27Z', '42'])],
    ['with a negative sequence', encodeCursor('events', 'asc', [POSITION[0], '-1'])],
    ['with a sequence beyond bigint', encodeCursor('events', 'asc', [POSITION[0], '9223372036854775808'])],
    ['with a leading zero', encodeCursor('events', 'asc', [POSITION[0], '042'])],
    ['with a number, not a string', doc({ v: 1, k: 'events', o: 'asc', p: [POSITION[0], 42] })],
  ])('refuses a cursor that is %s with a 400 naming /cursor', (_what, cursor) => {
    const err = refusal(() => decodeCursor(cursor, 'events', 'asc', SHAPE));
    expect({ status: err.status, code: err.code, errors: err.errors }).toEqual({
      status: 400,
      code: 'validation_failed',
      errors: [{ path: '/cursor', message: 'cursor is not a cursor returned by this list' }],
    });
  });

  it('refuses text parts PostgreSQL cannot store (NUL) or longer than 128 characters', () => {
    for (const part of ['a\u0000b', 'x'.repeat(129)]) {
      const cursor = encodeCursor('sessions', 'asc', [part]);
      expect(refusal(() => decodeCursor(cursor, 'sessions', 'asc', ['text'])).code).toBe('validation_failed');
    }
    expect(
      decodeCursor(encodeCursor('sessions', 'asc', ['x'.repeat(128)]), 'sessions', 'asc', ['text']),
    ).toEqual(['x'.repeat(128)]);
  });
});

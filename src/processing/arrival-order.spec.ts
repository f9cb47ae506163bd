import { arrivalKeys } from './arrival-order';

describe('arrivalKeys', () => {
  it('orders by job id, then by position, as bigints above the column sequence', () => {
    const keys = [
      arrivalKeys(9, 3)?.(0),
      arrivalKeys('9', 3)?.(2),
      arrivalKeys(10, 1)?.(0),
      arrivalKeys(999_999_999_999, 1_000_000)?.(999_999),
    ].map((k) => BigInt(k ?? -1));
    expect(keys).toEqual([
      10n ** 18n + 9_000_000n,
      10n ** 18n + 9_000_002n,
      10n ** 18n + 10_000_000n,
      10n ** 18n + 999_999_999_999n * 1_000_000n + 999_999n,
    ]);
    expect(keys.every((k, i) => i === 0 || k > keys[i - 1])).toBe(true);
    expect(keys[3] < 2n ** 63n).toBe(true);
  });

  it('gives no keys for a job id that is not a Bull counter value, or a job too large', () => {
    for (const id of [undefined, 'custom-id', '', 0, -1, 1.5, '1e3', 1_000_000_000_000]) {
      expect(arrivalKeys(id, 1)).toBeUndefined();
    }
    expect(arrivalKeys(1, 1_000_001)).toBeUndefined();
  });
});

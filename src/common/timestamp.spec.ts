import { formatMicros, parseTimestamp, parseTimestampOrDate } from './timestamp';

const utcMicros = (iso: string): number => Date.parse(iso) * 1000;

describe(parseTimestamp.name, () => {
  it('parses the example format of the brief (space, 6 digits, no zone = UTC)', () => {
    expect(parseTimestamp('2021-01-01 09:15:27.243860')).toBe(utcMicros('2021-01-01T09:15:27Z') + 243_860);
  });

  it.each([
    ['2021-01-01T09:15:27Z', 0],
    ['2021-01-01t09:15:27z', 0],
    ['2021-01-01 09:15:27', 0],
    ['2021-01-01T09:15:27.2', 200_000],
    ['2021-01-01T09:15:27.24', 240_000],
    ['2021-01-01T09:15:27.243', 243_000],
    ['2021-01-01T09:15:27.2438', 243_800],
    ['2021-01-01T09:15:27.24386', 243_860],
    ['2021-01-01T09:15:27.243861Z', 243_861],
  ])('accepts %s', (text, micros) => {
    expect(parseTimestamp(text)).toBe(utcMicros('2021-01-01T09:15:27Z') + micros);
  });

  it.each([
    ['2021-01-01T11:15:27+02:00'],
    ['2021-01-01T11:15:27+0200'],
    ['2021-01-01T04:45:27-04:30'],
    ['2021-01-01T04:45:27-0430'],
    ['2021-01-01T09:15:27+00:00'],
    ['2021-01-01T09:15:27-00:00'],
  ])('converts the offset of %s to UTC', (text) => {
    expect(parseTimestamp(text)).toBe(utcMicros('2021-01-01T09:15:27Z'));
  });

  it('converts an offset across a date boundary', () => {
    expect(parseTimestamp('2021-01-01T01:00:00.000001+02:00')).toBe(utcMicros('2020-12-31T23:00:00Z') + 1);
  });

  it('accepts Feb 29 of a leap year only', () => {
    expect(parseTimestamp('2024-02-29T00:00:00Z')).toBe(utcMicros('2024-02-29T00:00:00Z'));
    expect(parseTimestamp('2023-02-29T00:00:00Z')).toBeNull();
    expect(parseTimestamp('1900-02-29T00:00:00Z')).toBeNull();
    expect(parseTimestamp('2000-02-29T00:00:00Z')).toBe(utcMicros('2000-02-29T00:00:00Z'));
  });

  it.each([
    ['Feb 30', '2021-02-30T00:00:00Z'],
    ['Apr 31', '2021-04-31T00:00:00Z'],
    ['day 0', '2021-01-00T00:00:00Z'],
    ['month 13', '2021-13-01T00:00:00Z'],
    ['month 0', '2021-00-01T00:00:00Z'],
    ['hour 24', '2021-01-01T24:00:00Z'],
    ['minute 60', '2021-01-01T00:60:00Z'],
    ['second 60', '2021-01-01T00:00:60Z'],
    ['year < 1700', '1699-12-31T23:59:59Z'],
    ['year > 2254', '2255-01-01T00:00:00Z'],
    ['year 9999', '9999-12-31T23:59:59Z'],
    ['year 0000', '0000-01-01T00:00:00Z'],
    ['offset hour 24', '2021-01-01T00:00:00+24:00'],
    ['offset minute 60', '2021-01-01T00:00:00+01:60'],
    ['7 fractional digits', '2021-01-01T09:15:27.2438601Z'],
    ['a dot without digits', '2021-01-01T09:15:27.Z'],
    ['no seconds', '2021-01-01T09:15Z'],
    ['a bare date', '2021-01-01'],
    ['a one-digit month', '2021-1-01T00:00:00Z'],
    ['a zone name', '2021-01-01T00:00:00 UTC'],
    ['an hour-only offset', '2021-01-01T00:00:00+02'],
    ['leading space', ' 2021-01-01T00:00:00Z'],
    ['trailing newline', '2021-01-01T00:00:00Z\n'],
    ['garbage', 'yesterday'],
    ['empty', ''],
    ['epoch number text', '1609492527'],
  ])('refuses %s', (_label, text) => {
    expect(parseTimestamp(text)).toBeNull();
  });

  it('keeps microseconds exactly at both ends of the accepted years (1700-2254)', () => {
    for (const text of ['1700-01-01T00:00:00.000001Z', '2254-12-31T23:59:59.999999Z']) {
      expect(formatMicros(parseTimestamp(text) as number)).toBe(text);
    }
  });

  it('orders two timestamps 1 µs apart', () => {
    const a = parseTimestamp('2021-01-01T09:15:27.243860Z') as number;
    const b = parseTimestamp('2021-01-01T09:15:27.243861Z') as number;
    expect(b - a).toBe(1);
    expect(a < b).toBe(true);
  });

  it('orders timestamps 1 µs apart across a second boundary and across zones', () => {
    const a = parseTimestamp('2021-01-01T09:15:27.999999Z') as number;
    const b = parseTimestamp('2021-01-01T10:15:28+01:00') as number;
    expect(b - a).toBe(1);
  });
});

describe(formatMicros.name, () => {
  it('renders RFC 3339 UTC with 6 fractional digits', () => {
    expect(formatMicros(utcMicros('2021-01-01T09:15:27Z') + 243_860)).toBe('2021-01-01T09:15:27.243860Z');
    expect(formatMicros(utcMicros('2021-01-01T09:15:27Z'))).toBe('2021-01-01T09:15:27.000000Z');
    expect(formatMicros(utcMicros('2021-01-01T09:15:27Z') + 7)).toBe('2021-01-01T09:15:27.000007Z');
  });

  it.each([
    ['2021-01-01 09:15:27.243860', '2021-01-01T09:15:27.243860Z'],
    ['2021-01-01T11:15:27.5+02:00', '2021-01-01T09:15:27.500000Z'],
    ['2021-06-30T23:59:59.999999Z', '2021-06-30T23:59:59.999999Z'],
    ['1969-12-31T23:59:59.999999Z', '1969-12-31T23:59:59.999999Z'],
    ['1700-01-01T00:00:00.000001Z', '1700-01-01T00:00:00.000001Z'],
    ['2254-06-01T00:00:00.000001Z', '2254-06-01T00:00:00.000001Z'],
  ])('round-trips %s', (text, formatted) => {
    const micros = parseTimestamp(text) as number;
    expect(formatMicros(micros)).toBe(formatted);
    expect(parseTimestamp(formatMicros(micros))).toBe(micros);
  });
});

describe(parseTimestampOrDate.name, () => {
  it('reads a bare date as midnight UTC', () => {
    expect(parseTimestampOrDate('2021-01-01')).toBe(utcMicros('2021-01-01T00:00:00Z'));
  });

  it('accepts full timestamps like parseTimestamp', () => {
    expect(parseTimestampOrDate('2021-01-01 09:15:27.243860')).toBe(
      parseTimestamp('2021-01-01 09:15:27.243860'),
    );
  });

  it.each(['2021-02-30', '2021-13-01', '0999-01-01', '2021-01', 'today'])('refuses %s', (text) => {
    expect(parseTimestampOrDate(text)).toBeNull();
  });
});

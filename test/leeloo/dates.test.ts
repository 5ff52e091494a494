import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { ceilDay, floorDay, formatFilterDate, formatPaymentDate, normalizeTimestamp } from '../../src/leeloo/dates.js';

describe('normalizeTimestamp', () => {
  it.each([
    ['2020-02-06T11:30:30.035Z', '2020-02-06T11:30:30.035Z'],
    ['2015-04-02T14:20Z', '2015-04-02T14:20:00.000Z'],
    ['2018-06-27 07:32', '2018-06-27T07:32:00.000Z'],
    ['2018-06-27 07:32:05', '2018-06-27T07:32:05.000Z'],
    ['2018-06-27T07:32:05Z', '2018-06-27T07:32:05.000Z'],
    ['2018-06-27T07:32:05.1Z', '2018-06-27T07:32:05.100Z'],
    ['2018-06-27T07:32:05.123456Z', '2018-06-27T07:32:05.123Z'],
    ['2020-02-10', '2020-02-10T00:00:00.000Z'],
    ['2020-02-10T02:00:00+02:00', '2020-02-10T00:00:00.000Z'],
    ['2020-02-10T00:00:00-0130', '2020-02-10T01:30:00.000Z'],
    [' 2020-02-10T00:00:00Z ', '2020-02-10T00:00:00.000Z'],
  ])('%s → %s', (input, out) => {
    expect(normalizeTimestamp(input)).toBe(out);
  });

  it.each(['NOT_DEFINED', 'NO_DATA', '', 'yesterday', '2021-02-30T00:00Z', '2021-13-01', '2021-01-01T25:00Z', '12/03/2020'])('%j → null', (input) => {
    expect(normalizeTimestamp(input)).toBeNull();
  });

  // Canonical strings take a fast path: the ones that would roll over (Feb 30, 24:00) still read
  // as invalid, and years below 1000 keep the full parse's reading.
  it.each(['2021-02-30T00:00:00.000Z', '2021-01-01T24:00:00.000Z', '2021-04-31T10:00:00.000Z', '2021-01-01T23:60:00.000Z'])('canonical but impossible %j → null', (input) => {
    expect(normalizeTimestamp(input)).toBeNull();
  });

  it('canonical strings read as the full parse reads them', () => {
    expect(normalizeTimestamp('2020-02-29T23:59:59.999Z')).toBe('2020-02-29T23:59:59.999Z');
    expect(normalizeTimestamp('0099-05-01T00:00:00.000Z')).toBe(normalizeTimestamp('0099-05-01T00:00:00Z'));
  });

  // The API's dates are 20xx; a year below 1000 is a "zero date" sentinel (0001-01-01) or a typo,
  // never a time the mirror should keep, so every form of it reads as null, the same as NOT_DEFINED.
  // Before this rule 0000-0099 were null only by accident (Date.UTC maps them to 1900-1999 and
  // the roll-over check refused the result) and 0100-0999 were kept.
  it.each([
    '0001-01-01T00:00:00.000Z',
    '0001-01-01T00:00:00Z',
    '0000-01-01',
    '0020-06-15 10:00',
    '0099-12-31T23:59:59.999Z',
    '0100-01-01T00:00:00.000Z',
    '0500-05-01T00:00:00Z',
    '0999-12-31T23:59:59.999Z',
    '1000-01-01T00:30:00+01:00',
  ])('year below 1000 %j → null', (input) => {
    expect(normalizeTimestamp(input)).toBeNull();
  });

  it('years 1000-9999 are kept, and so is the first instant of 1000', () => {
    expect(normalizeTimestamp('1000-01-01T00:00:00.000Z')).toBe('1000-01-01T00:00:00.000Z');
    expect(normalizeTimestamp('1000-01-01 00:00')).toBe('1000-01-01T00:00:00.000Z');
    expect(normalizeTimestamp('9999-12-31T23:59:59.999Z')).toBe('9999-12-31T23:59:59.999Z');
  });

  it('numbers and Dates outside years 1000-9999 read as null (the mirror keeps 4-digit years: its text times sort as text)', () => {
    expect(normalizeTimestamp(new Date('0001-01-01T00:00:00Z').getTime())).toBeNull();
    expect(normalizeTimestamp(new Date('0500-01-01T00:00:00Z'))).toBeNull();
    expect(normalizeTimestamp(Date.UTC(999, 11, 31, 23, 59, 59, 999))).toBeNull();
    expect(normalizeTimestamp(Date.UTC(10000, 0, 1))).toBeNull();
    expect(normalizeTimestamp(new Date(Date.UTC(10000, 0, 1)))).toBeNull();
    expect(normalizeTimestamp(Date.UTC(1000, 0, 1))).toBe('1000-01-01T00:00:00.000Z');
  });

  it('the fast path agrees with the full parse on every day of leap and common years, and on the edges of the clock', () => {
    // A leading space is trimmed by the full parse and skips the fast path: the two readings side by side.
    const days: string[] = [];
    for (const year of [1000, 1900, 1999, 2000, 2023, 2024, 2100, 9999])
      for (let month = 1; month <= 12; month++)
        for (let day = 28; day <= 32; day++) days.push(`${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`);
    const cases = days.flatMap((d) => [`${d}T00:00:00.000Z`, `${d}T23:59:59.999Z`]);
    cases.push('2024-06-15T12:34:56.789Z', '2024-00-10T10:00:00.000Z', '2024-06-00T10:00:00.000Z', '2024-06-15T10:00:60.000Z', '2024-06-15T10:00:00.000z', '2024-06-15t10:00:00.000Z');
    let valid = 0;
    for (const c of cases) {
      const fast = normalizeTimestamp(c);
      expect(fast, c).toBe(normalizeTimestamp(` ${c}`));
      if (fast !== null) valid++;
    }
    expect(valid).toBeGreaterThan(400); // most of them are real days
  });

  it('handles non-strings', () => {
    expect(normalizeTimestamp(null)).toBeNull();
    expect(normalizeTimestamp(undefined)).toBeNull();
    expect(normalizeTimestamp({})).toBeNull();
    expect(normalizeTimestamp(new Date('2020-01-01T00:00:00Z'))).toBe('2020-01-01T00:00:00.000Z');
    expect(normalizeTimestamp(Date.UTC(2020, 0, 1))).toBe('2020-01-01T00:00:00.000Z');
  });
});

describe('filter dates', () => {
  const d = new Date('2020-02-10T13:45:10.500Z');
  const midnight = new Date('2020-02-10T00:00:00.000Z');

  it('datetime mode sends full ISO UTC for both bounds', () => {
    expect(formatFilterDate(d, 'datetime', 'from')).toBe('2020-02-10T13:45:10.500Z');
    expect(formatFilterDate(d, 'datetime', 'to')).toBe('2020-02-10T13:45:10.500Z');
  });

  it('date mode floors from and ceils to, so a window is never narrowed', () => {
    expect(formatFilterDate(d, 'date', 'from')).toBe('2020-02-10');
    expect(formatFilterDate(d, 'date', 'to')).toBe('2020-02-11');
    expect(formatFilterDate(midnight, 'date', 'from')).toBe('2020-02-10');
    expect(formatFilterDate(midnight, 'date', 'to')).toBe('2020-02-10');
    expect(formatFilterDate(new Date('2020-12-31T23:59:59.999Z'), 'date', 'to')).toBe('2021-01-01');
  });

  it('floorDay/ceilDay are UTC', () => {
    expect(floorDay(d).toISOString()).toBe('2020-02-10T00:00:00.000Z');
    expect(ceilDay(d).toISOString()).toBe('2020-02-11T00:00:00.000Z');
    expect(ceilDay(midnight).toISOString()).toBe(midnight.toISOString());
  });

  it('rejects invalid dates', () => {
    expect(() => formatFilterDate(new Date('nope'), 'datetime', 'from')).toThrow(ValidationError);
  });

  it('paymentDate uses the docs form YYYY-MM-DD HH:mm', () => {
    expect(formatPaymentDate(new Date('2018-06-27T07:32:59.999Z'))).toBe('2018-06-27 07:32');
    expect(formatPaymentDate('2018-06-27 07:32')).toBe('2018-06-27 07:32');
  });
});

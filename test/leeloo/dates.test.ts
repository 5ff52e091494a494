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

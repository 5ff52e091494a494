import { describe, expect, it } from 'vitest';
import { dateModeSpan, dateModeTo } from '../../src/leeloo/dates.js';
import { checkItems, splitTrusted, type DateMode } from '../../src/sync/dateguard.js';
import type { StreamRun } from '../../src/sync/context.js';

const d = (s: string) => new Date(s);
const s: Pick<StreamRun, 'name'> = { name: 'people' };

describe('split check', () => {
  it('trusts halves that hold the parent, less what was seen leaving', () => {
    expect(splitTrusted(100, [60, 40], { drift: 0, live: false })).toBe(true);
    expect(splitTrusted(100, [60, 38], { drift: 0, live: false })).toBe(true); // a couple left meanwhile
    expect(splitTrusted(100, [60, 30], { drift: 10, live: false })).toBe(true);
    expect(splitTrusted(100, [61, 40], { drift: 0, live: false })).toBe(true); // one record on the shared bound
  });

  it('rejects halves that overlap (more than the parent) or lose records', () => {
    expect(splitTrusted(100, [70, 60], { drift: 0, live: false })).toBe(false);
    expect(splitTrusted(1e9, [1e9, 1e9], { drift: 0, live: false })).toBe(false);
    expect(splitTrusted(100, [50, 30], { drift: 0, live: false })).toBe(false);
    expect(splitTrusted(100, [50, 30], { drift: 5, live: false })).toBe(false);
  });

  it('allows records entering a window that reaches past the run start, and an unknown date overlap', () => {
    expect(splitTrusted(100, [60, 45], { drift: 5, live: true })).toBe(true);
    expect(splitTrusted(100, [60, 45], { drift: 5, live: false })).toBe(false);
    expect(splitTrusted(100, [70, 60], { drift: 0, live: false, overlapUnknown: true })).toBe(true);
  });
});

describe('date-mode windows', () => {
  it('send a to date that covers the window under the known reading', () => {
    const to = d('2026-12-01T08:40:00Z');
    // day-start: "2026-12-02" = Dec 2 00:00, the first date that covers 08:40 on Dec 1.
    expect(dateModeTo(to, 'day-start').toISOString()).toBe('2026-12-02T00:00:00.000Z');
    expect(dateModeTo(to, 'unknown').toISOString()).toBe('2026-12-02T00:00:00.000Z');
    // day: "2026-12-01" already reaches the end of Dec 1.
    expect(dateModeTo(to, 'day').toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(dateModeTo(d('2026-12-01T00:00:00Z'), 'day').toISOString()).toBe('2026-11-30T00:00:00.000Z');
  });

  it('know what the server lists for them', () => {
    const from = d('2026-11-29T10:00:00Z');
    const to = d('2026-12-01T08:40:00Z');
    expect(dateModeSpan(from, to, 'day')).toEqual({ from: d('2026-11-29T00:00:00Z'), to: d('2026-12-01T23:59:59.999Z') });
    expect(dateModeSpan(from, to, 'day-start')).toEqual({ from: d('2026-11-29T00:00:00Z'), to: d('2026-12-02T00:00:00Z') });
    expect(dateModeSpan(from, to, 'unknown')).toEqual({ from: d('2026-11-29T00:00:00Z'), to: d('2026-12-02T23:59:59.999Z') });
  });

  it('reject a listed item outside the window beyond the tolerance, naming the assumption', () => {
    const mode: DateMode = { format: 'datetime', dateTo: 'unknown', auto: true };
    const span = { from: d('2026-12-01T08:00:00Z'), to: d('2026-12-01T09:00:00Z') };
    expect(() => checkItems(s, mode, span, [{ id: 'a', lastMessageTime: '2026-12-01T09:00:00.900Z' }, { id: 'b', lastMessageTime: null }])).not.toThrow();
    expect(() => checkItems(s, mode, span, [{ id: 'c', lastMessageTime: '2026-12-01T07:59:58.000Z' }])).toThrow(
      /people: the server does not honour filter\[last_message\] as assumed \(full datetimes\): item c has lastMessageTime 2026-12-01T07:59:58.000Z/,
    );
  });
});

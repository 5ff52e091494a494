import { describe, expect, it } from 'vitest';
import { iso, shortIso } from '../../src/sim/format.js';
import { rngFor } from '../../src/sim/random.js';

describe('iso', () => {
  it('is toISOString for the times a company holds, day and second edges, and the values it hands back to it', () => {
    const rng = rngFor(5, 1);
    const values = [0, 1, 999, 1000, 59_999, 60_000, 3_599_999, 86_399_999, 86_400_000, 951_782_400_000, 253_402_300_799_999, 253_402_300_800_000, -1, -86_400_001, 1.5, 1_700_000_000_000.25];
    for (let i = 0; i < 20_000; i++) values.push(Math.floor(1_500_000_000_000 + rng.next() * 400_000_000_000));
    for (let d = 0; d < 3000; d++) values.push(1_600_000_000_000 + d * 86_400_000 - 1, 1_600_000_000_000 + d * 86_400_000);
    for (const v of values) expect(iso(v), String(v)).toBe(new Date(v).toISOString());
    expect(shortIso(1_700_000_123_456)).toBe('2023-11-14T22:15Z');
  });
});

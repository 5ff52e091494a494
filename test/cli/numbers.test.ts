import { describe, expect, it } from 'vitest';
import { parseDay, parseDecimal, parseWhole } from '../../src/cli/numbers.js';
import { openMirror } from '../../src/db/connection.js';
import { runCli } from '../helpers/cli.js';
import { refusal } from '../helpers/errors.js';
import { tempDbPath } from '../helpers/mirror.js';

describe('numeric and date options', () => {
  it('take plain decimal digits within a range, and real days from 2000-01-01 to tomorrow', () => {
    const r = { min: 1, max: 1000 };
    expect(parseWhole('--limit', ' 42 ', r)).toBe(42);
    expect(parseWhole('--limit', undefined, r)).toBeUndefined();
    for (const v of ['0x10', '1e3', '+5', '10.0', '', ' ', '1_000', '٣']) expect(refusal(() => parseWhole('--limit', v, r)), v).toMatch(/^--limit must be a whole number from 1 to 1000, in plain decimal digits \(got /);
    expect(refusal(() => parseWhole('--limit', '99999999999999999999', r))).toBe('--limit must be a whole number from 1 to 1000 (got 99999999999999999999, out of range)');
    expect(refusal(() => parseWhole('--limit', '0', r))).toBe('--limit must be a whole number from 1 to 1000 (got 0, out of range)');
    expect(parseDecimal('--fault-rate', '0.25', { min: 0, max: 1 })).toBe(0.25);
    for (const v of ['.5', '1e-1', '0x1', 'NaN', 'Infinity']) expect(refusal(() => parseDecimal('--fault-rate', v, { min: 0, max: 1 })), v).toMatch(/^--fault-rate must be a number from 0 to 1, in plain decimal digits/);

    expect(parseDay('--since', '2024-02-29')).toEqual(new Date('2024-02-29T00:00:00.000Z'));
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(parseDay('--since', tomorrow)?.toISOString().slice(0, 10)).toBe(tomorrow);
    for (const v of ['0000-01-01', '1999-12-31', '2999-01-01']) expect(refusal(() => parseDay('--since', v)), v).toMatch(/^--since must be a date from 2000-01-01 to \d{4}-\d{2}-\d{2} \(got /);
    for (const v of ['2024-02-30', '24-01-01', '2024-1-1', '2024-01-01T00:00']) expect(refusal(() => parseDay('--since', v)), v).toMatch(/^--since must be a date YYYY-MM-DD/);
  });

  it('every command refuses them with exit 2 and one line naming the option', async () => {
    const db = tempDbPath('ls-num-');
    try {
      const env = { DATABASE_URL: db.path, LEELOO_API_TOKEN: 't', LEELOO_API_URL: 'http://127.0.0.1:9', REDIS_URL: 'redis://127.0.0.1:9' };
      const cases: [string[], RegExp][] = [
        [['sync', '--since', '0000-01-01'], /^leeloo-sync: --since must be a date from 2000-01-01 to /],
        [['status', '--runs', '0x10'], /^leeloo-sync: --runs must be a whole number from 1 to 1000000, in plain decimal digits \(got "0x10"\)/],
        [['outbox', 'list', '--limit', '1e3'], /^leeloo-sync: --limit must be a whole number from 1 to 1000000, in plain decimal digits \(got "1e3"\)/],
        [['outbox', 'list', '--limit', '99999999999999999999'], /^leeloo-sync: --limit must be a whole number from 1 to 1000000 \(got 99999999999999999999, out of range\)/],
        [['demo', '--people', '1e3'], /^leeloo-sync: --people must be a whole number/],
        [['worker', '--lock-ms', '0x10'], /^leeloo-sync: --lock-ms must be a whole number/],
        [['sim', '--port', '80.5'], /^leeloo-sync: --port must be a whole number from 0 to 65535/],
        [['enqueue', 'update-order', '--order', '5e2825e081fbca000d8596e4', '--status', 'RESOLVED', '--payment-date', '0000-01-01'], /^leeloo-sync: --payment-date: must be a date from 2000-01-01 to 2099-12-31/],
        [['enqueue', 'update-order', '--order', '5e2825e081fbca000d8596e4', '--status', 'RESOLVED', '--price', '1e3'], /^leeloo-sync: --price: must be a non-negative number/],
      ];
      // The enqueue cases need a mirror to get as far as validation.
      openMirror(db.path).close();
      const results = await Promise.all(cases.map(([args]) => runCli(args, env)));
      results.forEach((r, i) => {
        const args = cases[i]![0];
        expect({ args, code: r.code }).toEqual({ args, code: 2 });
        expect(r.stderr, args.join(' ')).toMatch(cases[i]![1]);
        expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      });
    } finally {
      db.cleanup();
    }
  }, 120_000);
});

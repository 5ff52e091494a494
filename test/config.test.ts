import { describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig, sqlitePath } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const env = loadConfig({});
    expect(env.LEELOO_API_URL).toBe('https://api.leeloo.ai');
    expect(env.DATABASE_URL).toBe('./data/leeloo.db');
    expect(env.SYNC_START_DATE).toBe('2015-01-01');
    expect(env.LEELOO_DATE_FORMAT).toBe('datetime');
    expect(env.SCHEDULE_NIGHTLY_CRON).toBe('0 3 * * *');
    expect(env.DASHBOARD_HOST).toBe('127.0.0.1');
  });

  it('takes the deletion and reconcile shares as decimals or fractions, within 0..1', () => {
    expect(loadConfig({}).SYNC_MAX_DELETE_SHARE).toBe(0.02);
    expect(loadConfig({}).SYNC_RECONCILE_DETAIL_SHARE).toBeCloseTo(1 / 7, 12);
    const e = loadConfig({ SYNC_MAX_DELETE_SHARE: '1/50', SYNC_RECONCILE_DETAIL_SHARE: '0.25' });
    expect(e.SYNC_MAX_DELETE_SHARE).toBe(0.02);
    expect(e.SYNC_RECONCILE_DETAIL_SHARE).toBe(0.25);
    expect(loadConfig({ SYNC_RECONCILE_DETAIL_SHARE: ' 1 / 3 ' }).SYNC_RECONCILE_DETAIL_SHARE).toBeCloseTo(1 / 3, 12);
    let err: unknown;
    try {
      loadConfig({ SYNC_MAX_DELETE_SHARE: '5%', SYNC_RECONCILE_DETAIL_SHARE: '8/7' });
    } catch (x) {
      err = x;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/SYNC_MAX_DELETE_SHARE must be a number from 0 to 1, as a decimal \(0.14\) or a fraction \(1\/7\)/);
    expect((err as ConfigError).message).toMatch(/SYNC_RECONCILE_DETAIL_SHARE must be from 0 to 1/);
    expect(() => loadConfig({ SYNC_RECONCILE_DETAIL_SHARE: '1/0' })).toThrow(/SYNC_RECONCILE_DETAIL_SHARE/);
  });

  it('requires the token only when asked, naming LEELOO_API_TOKEN', () => {
    expect(() => loadConfig({})).not.toThrow();
    expect(() => loadConfig({}, { requireToken: true })).toThrow(/LEELOO_API_TOKEN is required/);
  });

  it('reports every bad variable at once and never echoes a value', () => {
    let err: unknown;
    try {
      loadConfig(
        {
          LEELOO_API_URL: 'ftp://nope',
          LEELOO_RATE_LIMIT: 'fast',
          SYNC_START_DATE: '2024-02-30',
          SYNC_CONCURRENCY: '0',
          REDIS_URL: 'http://x',
          SCHEDULE_TIMEZONE: 'Mars/Olympus',
          DASHBOARD_USER: 'admin',
          LEELOO_API_TOKEN: '   ',
        },
        { requireToken: true },
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const key of ['LEELOO_API_URL', 'LEELOO_RATE_LIMIT', 'SYNC_START_DATE', 'SYNC_CONCURRENCY', 'REDIS_URL', 'SCHEDULE_TIMEZONE', 'LEELOO_API_TOKEN']) {
      expect(problems).toContain(key);
    }
    expect((err as Error).message.split('\n')).toHaveLength(1);
    expect((err as Error).message).not.toContain('fast');
  });

  it('requires dashboard user and password together', () => {
    expect(() => loadConfig({ DASHBOARD_USER: 'a' })).toThrow(/DASHBOARD_USER and DASHBOARD_PASSWORD/);
    expect(loadConfig({ DASHBOARD_USER: 'a', DASHBOARD_PASSWORD: 'b' }).DASHBOARD_PASSWORD).toBe('b');
  });

  it('lists its variables', () => {
    expect(ENV_VARS).toContain('LEELOO_API_TOKEN');
    expect(ENV_VARS).toContain('DATABASE_URL');
  });
});

describe('sqlitePath', () => {
  it('accepts a path or file:PATH and refuses other URLs', () => {
    expect(sqlitePath('./data/x.db')).toBe('./data/x.db');
    expect(sqlitePath('file:./data/x.db')).toBe('./data/x.db');
    expect(sqlitePath('file:///tmp/x.db')).toBe('/tmp/x.db');
    expect(() => sqlitePath('postgres://localhost/db')).toThrow(/SQLite file path/);
  });
});

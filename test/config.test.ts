import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig, sqlitePath } from '../src/config.js';
import { databaseKind, redactDatabaseUrl } from '../src/db/location.js';
import { ConfigError } from '../src/errors.js';
import { scrub } from '../src/log.js';
import { runCli } from './helpers/cli.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message.split('\n')).toHaveLength(1);
    return (err as ConfigError).problems;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies defaults', () => {
    const env = loadConfig({});
    expect(env.LEELOO_API_URL).toBe('https://api.leeloo.ai');
    expect(env.DATABASE_URL).toBe('./data/leeloo.db');
    expect(env.SYNC_START_DATE).toBe('2015-01-01');
    expect(env.LEELOO_DATE_FORMAT).toBe('auto');
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

describe('cron patterns', () => {
  it('accepts five-field patterns cron-parser reads', () => {
    for (const c of ['0 3 * * *', '*/15 * * * *', '0 4 * * 0', '30 2 1 * mon-fri']) expect(problemsOf({ SCHEDULE_NIGHTLY_CRON: c, SCHEDULE_FULL_CRON: c }), c).toEqual([]);
  });

  it('refuses short, 6-field, out-of-range and garbage patterns, all in one line with the other problems', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-cfg-'));
    try {
      const problems = problemsOf({ SCHEDULE_NIGHTLY_CRON: '* * *', SCHEDULE_FULL_CRON: '* * * * * *', DATABASE_URL: dir, DASHBOARD_USER: 'ops' });
      expect(problems).toEqual([
        'DATABASE_URL is a directory (' + dir + '); give a file path, e.g. ' + dir + '/leeloo.db',
        'SCHEDULE_NIGHTLY_CRON must be a cron pattern of exactly 5 fields (minute hour day-of-month month day-of-week), not 3',
        'SCHEDULE_FULL_CRON must be a cron pattern of exactly 5 fields (minute hour day-of-month month day-of-week), not 6',
        'DASHBOARD_USER and DASHBOARD_PASSWORD must be set together',
      ]);
      expect(problemsOf({ SCHEDULE_NIGHTLY_CRON: '61 * * * *', SCHEDULE_FULL_CRON: 'at four on sunday mornings' })).toEqual([
        'SCHEDULE_NIGHTLY_CRON is not a valid cron pattern: Constraint error, got value 61 expected range 0-59',
        'SCHEDULE_FULL_CRON is not a valid cron pattern: Invalid characters, got value: at',
      ]);
      expect(problemsOf({ SCHEDULE_NIGHTLY_CRON: '@daily' })[0]).toMatch(/^SCHEDULE_NIGHTLY_CRON must be a cron pattern of exactly 5 fields/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a command exits 2 with them, before doing anything', async () => {
    const r = await runCli(['status'], { SCHEDULE_NIGHTLY_CRON: '* * *', SCHEDULE_FULL_CRON: 'garbage', DATABASE_URL: 'file://elsewhere/x.db' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^leeloo-sync: invalid configuration: DATABASE_URL must be a local file: URI \(file:\/\/\/PATH; got host "elsewhere"\); SCHEDULE_NIGHTLY_CRON must be .*; SCHEDULE_FULL_CRON must be a cron pattern of exactly 5 fields .*, not 1\n$/);
  }, 60_000);
});

describe('DATABASE_URL', () => {
  it('refuses what cannot be a database file, naming DATABASE_URL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-cfg-'));
    try {
      writeFileSync(join(dir, 'file'), 'x');
      const cases: [string, RegExp][] = [
        [dir, /^DATABASE_URL is a directory/],
        [join(dir, 'file', 'sub', 'x.db'), /^DATABASE_URL is under a file, not a directory \(.*\/file is a file\)$/],
        ['file://host/x.db', /^DATABASE_URL must be a local file: URI/],
        ['file:', /^DATABASE_URL must name a path after file:/],
        ['file:///tmp/%zz.db', /^DATABASE_URL has malformed percent-encoding/],
        ['file:///tmp/x.db?mode=ro', /^DATABASE_URL must be a plain file: URI/],
        ['/proc/1/x.db', /^DATABASE_URL must not point into \/proc, \/sys or \/dev/],
        ['/sys/x.db', /^DATABASE_URL must not point into/],
        ['/dev/null', /^DATABASE_URL must not point into/],
        ['mysql://localhost/db', /^DATABASE_URL must be a SQLite file path, file:PATH, or a postgres:\/\/ URL \(got a mysql: URL\)$/],
        ['postgres://host:99999/db', /^DATABASE_URL is not a valid postgres:\/\/ URL/],
        ['postgres://host/db/more', /^DATABASE_URL must name one database after the host/],
      ];
      for (const [v, re] of cases) expect(problemsOf({ DATABASE_URL: v }).join('; '), v).toMatch(re);
      for (const v of [join(dir, 'new', 'deeper', 'x.db'), `file://${dir}/a%20b.db`, `file://localhost${dir}/x.db`, ':memory:']) expect(problemsOf({ DATABASE_URL: v }), v).toEqual([]);
      for (const v of ['postgres://localhost/db', 'postgresql://u:p%40ss@db.example:6543/mirror?sslmode=verify-full', 'POSTGRES:///db', 'postgres://'])
        expect(problemsOf({ DATABASE_URL: v }), v).toEqual([]);
      // An unwritable directory and file: mode 0500/0400 for a normal user; root ignores modes,
      // so there the immutable attribute (chattr +i) makes them unwritable.
      const ro = join(dir, 'ro');
      mkdirSync(ro, { mode: 0o700 });
      writeFileSync(join(ro, 'old.db'), '');
      const root = process.getuid?.() === 0;
      const lock = (on: boolean) => {
        if (root) return spawnSync('chattr', [on ? '+i' : '-i', join(ro, 'old.db'), ro]).status === 0;
        chmodSync(join(ro, 'old.db'), on ? 0o400 : 0o600);
        chmodSync(ro, on ? 0o500 : 0o700);
        return true;
      };
      if (lock(true)) {
        try {
          expect(problemsOf({ DATABASE_URL: join(ro, 'x.db') }).join('; ')).toMatch(/^DATABASE_URL cannot be created: .*\/ro is not writable by this user$/);
          expect(problemsOf({ DATABASE_URL: join(ro, 'old.db') }).join('; ')).toMatch(/^DATABASE_URL is not readable and writable by this user/);
        } finally {
          lock(false);
        }
      } else {
        // Root without CAP_LINUX_IMMUTABLE: no way to make a path unwritable here.
        console.warn('config.test: could not make a directory unwritable (root without chattr); unwritable DATABASE_URL not tested');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a PostgreSQL DATABASE_URL', () => {
  it('is refused by the commands that write SQLite only so far: exit 2, one line, no password', async () => {
    const r = await runCli(['outbox', 'list'], { DATABASE_URL: 'postgres://ada:Zq7-secret@127.0.0.1:5432/mirror' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('leeloo-sync: DATABASE_URL is a PostgreSQL URL, which this command does not use yet (README, Choosing a backend); give a SQLite file path\n');
  }, 60_000);

  it('selects the postgres backend, and its password is redacted once the configuration is loaded', () => {
    expect(databaseKind('postgres://h/db')).toBe('postgres');
    expect(databaseKind('postgresql://h/db')).toBe('postgres');
    expect(databaseKind('./data/x.db')).toBe('sqlite');
    expect(databaseKind('file:///tmp/postgres://x')).toBe('sqlite');
    expect(redactDatabaseUrl('postgres://ada:Zq7%25pw@h:5432/db?sslmode=require&password=other')).toBe('postgres://ada@h:5432/db?sslmode=require');
    loadConfig({ DATABASE_URL: 'postgres://ada:Zq7%25pw@h:5432/db' });
    expect(scrub('login Zq7%pw and Zq7%25pw failed')).toBe('login [REDACTED] and [REDACTED] failed');
  });
});

describe('sqlitePath', () => {
  it('accepts a path or file:PATH and refuses other URLs', () => {
    expect(sqlitePath('./data/x.db')).toBe('./data/x.db');
    expect(sqlitePath('file:./data/x.db')).toBe('./data/x.db');
    expect(sqlitePath('file:///tmp/x.db')).toBe('/tmp/x.db');
    expect(() => sqlitePath('postgres://localhost/db')).toThrow(/SQLite file path/);
    expect(() => sqlitePath('postgresql://ada:pw@localhost/db')).toThrow(/^DATABASE_URL is a PostgreSQL URL, which this command does not use yet \(README, Choosing a backend\); give a SQLite file path$/);
    expect(sqlitePath('file:///tmp/a%20b.db')).toBe('/tmp/a b.db');
    expect(() => sqlitePath('file://host/x')).toThrow(/^DATABASE_URL must be a local file: URI/);
  });
});

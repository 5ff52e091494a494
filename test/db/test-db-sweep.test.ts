/**
 * The sweep of test databases killed runs left behind (test/helpers/pg-sweep.ts): its decision
 * per name, and one real sweep on the PostgreSQL server.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { adminQuery, pgUrl, sweepStaleTestDatabases } from '../helpers/pg.js';
import {
  hostTag,
  isStale,
  LEGACY_STALE_MS,
  liveProbe,
  parseTestDatabaseName,
  processStart,
  staleDatabases,
  testDatabaseName,
  type SweepProbe,
} from '../helpers/pg-sweep.js';

const HOST = 'abc123';
const NOW = Date.UTC(2026, 11, 1);
/** pid 100 runs since tick 5000, pid 200 with an unknown start; every other pid is gone. */
const probe: SweepProbe = { host: HOST, now: NOW, startOf: (pid) => (pid === 100 ? 5000 : pid === 200 ? 0 : undefined) };
const named = (pid: number, start: number, host = HOST) => testDatabaseName({ host, pid, start });
const seen = (name: string, connections = 0, createdAt?: number) => ({ name, connections, ...(createdAt === undefined ? {} : { createdAt }) });

describe('which test databases are stale', () => {
  it('a name says its host, pid and start, and reads back; names are new each time and fit PostgreSQL', () => {
    const name = named(4_194_304, 123_456_789);
    expect(parseTestDatabaseName(name)).toEqual({ host: HOST, pid: 4_194_304, start: 123_456_789 });
    expect(name.length).toBeLessThanOrEqual(63);
    expect(named(1, 1)).not.toBe(named(1, 1));
    expect(parseTestDatabaseName(testDatabaseName())).toEqual({ host: hostTag(), pid: process.pid, start: processStart(process.pid) });
  });

  it('gone creator: stale; live creator: kept; pid reused by a later process: stale', () => {
    expect(isStale(seen(named(300, 5000)), probe)).toBe(true);
    expect(isStale(seen(named(100, 5000)), probe)).toBe(false);
    expect(isStale(seen(named(100, 4999)), probe)).toBe(true);
  });

  it('kept whenever it cannot be sure: another host, an unknown start, a session connected', () => {
    expect(isStale(seen(named(300, 5000, 'ffffff')), probe)).toBe(false);
    expect(isStale(seen(named(200, 5000)), probe)).toBe(false);
    expect(isStale(seen(named(100, 0)), probe)).toBe(false);
    expect(isStale(seen(named(300, 5000), 1), probe)).toBe(false);
  });

  it('legacy `leeloo_test_<12 hex>` names go only by age, far above a suite; other names never', () => {
    expect(isStale(seen('leeloo_test_0123456789ab', 0, NOW - LEGACY_STALE_MS - 1), probe)).toBe(true);
    expect(isStale(seen('leeloo_test_0123456789ab', 0, NOW - 3600_000), probe)).toBe(false);
    expect(isStale(seen('leeloo_test_0123456789ab'), probe)).toBe(false);
    expect(isStale(seen('leeloo_test_0123456789ab', 2, 0), probe)).toBe(false);
    expect(LEGACY_STALE_MS).toBeGreaterThanOrEqual(6 * 3600_000);
    expect(staleDatabases([seen('leeloo_test_missing_1700000000000', 0, 0), seen('leeloo_production', 0, 0), seen('mydb', 0, 0)], probe)).toEqual([]);
  });
});

describe('sweepStaleTestDatabases on PostgreSQL', () => {
  const made: string[] = [];
  afterAll(async () => {
    for (const name of made) await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  it("drops a database whose creator exited, keeps this process's own and one in use", async () => {
    // Under a host tag of this test's own: to every other test process's sweep (each runs one
    // before its first database) these are another machine's, kept, so none drops the orphan first.
    const host = hostTag(`sweep-test-${process.pid}-${Date.now()}`);
    const probe = { ...liveProbe(), host };
    const mine = testDatabaseName({ host, pid: process.pid, start: processStart(process.pid)! });
    // A process that ran and exited: its pid is (almost surely) free now.
    const child = spawnSync(process.execPath, ['-e', '']);
    expect(processStart(child.pid!)).toBeUndefined();
    const orphan = testDatabaseName({ host, pid: child.pid!, start: 1 });
    const busy = testDatabaseName({ host, pid: child.pid!, start: 1 });
    made.push(mine, orphan, busy);
    for (const name of [mine, orphan, busy]) await adminQuery(`CREATE DATABASE ${name}`);
    const holder = new pg.Client({ connectionString: pgUrl(busy) });
    await holder.connect();
    try {
      const dropped = await sweepStaleTestDatabases(probe);
      expect(dropped).toContain(orphan);
      expect(dropped).not.toContain(mine);
      expect(dropped).not.toContain(busy);
      const left = (await adminQuery('SELECT datname FROM pg_database WHERE datname = ANY($1)', [[orphan, busy, mine]])).rows.map((r) => r.datname).sort();
      expect(left).toEqual([busy, mine].sort());
    } finally {
      await holder.end();
    }
  });
});

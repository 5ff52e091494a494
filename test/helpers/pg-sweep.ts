import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Names of the test databases, and which of them a killed run left behind.
 *
 * A test database is named `leeloo_test_<host>_<pid>_<start>_<random>`: a tag of the machine, the
 * creating process's pid and its start time (Linux: /proc/<pid>/stat field 22, clock ticks since
 * boot; elsewhere 0). A database is stale only when that process is gone: same host tag, and the
 * pid either answers ESRCH or now belongs to a process that started at another time (pid reuse).
 * Anything else is kept: a live creator (this run's other vitest workers, another session's
 * concurrent run), another machine sharing the server (its pids mean nothing here), a name of
 * another shape (roles, `leeloo_test_missing_*`). Databases of the older `leeloo_test_<12 hex>`
 * shape carry no creator, so they are stale only by age, far above a suite's length.
 */

const PREFIX = 'leeloo_test_';
const NAME = /^leeloo_test_([0-9a-f]{6})_([0-9a-z]+)_([0-9a-z]+)_[0-9a-f]{8}$/;
const LEGACY = /^leeloo_test_[0-9a-f]{12}$/;
/** A legacy-named database older than this has no live creator: a whole suite takes minutes. */
export const LEGACY_STALE_MS = 24 * 3600_000;

export interface Creator {
  host: string;
  pid: number;
  start: number;
}

/** The first 6 hex digits of the hostname's SHA-256: which machine's pids a name speaks of. */
export function hostTag(name = hostname()): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 6);
}

/** A process's start time in clock ticks since boot (Linux), 0 when unknown; undefined when no such process. */
export function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from its end.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    // No /proc (not Linux) or no such process: ask the process table.
    try {
      process.kill(pid, 0);
      return 0;
    } catch (err) {
      // EPERM: it exists, owned by someone else.
      return (err as NodeJS.ErrnoException).code === 'ESRCH' ? undefined : 0;
    }
  }
}

/** A fresh name for a database created by this process. */
export function testDatabaseName(self: Creator = { host: hostTag(), pid: process.pid, start: processStart(process.pid) ?? 0 }): string {
  return `${PREFIX}${self.host}_${self.pid.toString(36)}_${self.start.toString(36)}_${randomBytes(4).toString('hex')}`;
}

export function parseTestDatabaseName(name: string): Creator | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  return { host: m[1]!, pid: parseInt(m[2]!, 36), start: parseInt(m[3]!, 36) };
}

export interface SweepProbe {
  /** This machine's host tag. */
  host: string;
  /** As processStart: the start of the live process `pid`, 0 when its start is unknown, undefined when none. */
  startOf(pid: number): number | undefined;
  now: number;
}

export interface DatabaseSeen {
  name: string;
  /** Sessions connected to it now (pg_stat_activity). */
  connections: number;
  /** When it was created (ms), if known: used only for legacy names. */
  createdAt?: number;
}

/** Whether `db` was left by a run that is gone, so that dropping it takes nothing from anyone. */
export function isStale(db: DatabaseSeen, probe: SweepProbe): boolean {
  if (db.connections > 0) return false;
  const c = parseTestDatabaseName(db.name);
  if (!c) return LEGACY.test(db.name) && db.createdAt !== undefined && probe.now - db.createdAt > LEGACY_STALE_MS;
  if (c.host !== probe.host) return false;
  const start = probe.startOf(c.pid);
  if (start === undefined) return true;
  // Alive with an unknown start (no /proc on either side): it may be the creator.
  if (start === 0 || c.start === 0) return false;
  return start !== c.start;
}

/** The stale ones of `dbs`. */
export function staleDatabases(dbs: DatabaseSeen[], probe: SweepProbe): string[] {
  return dbs.filter((d) => d.name.startsWith(PREFIX) && isStale(d, probe)).map((d) => d.name);
}

export const liveProbe = (): SweepProbe => ({ host: hostTag(), startOf: processStart, now: Date.now() });

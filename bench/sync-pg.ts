/**
 * A full sync of one simulated company into SQLite and into a fresh PostgreSQL database (created
 * and dropped here), same latency, concurrency and page size, each in its own process
 * (bench/sync-child.ts): the wall-time ratio PG/SQLite, and the sync process's CPU on each.
 * The two runs alternate (SQLite, PG, SQLite, PG, …) and the best of each is compared, so a
 * neighbour's burst of load on this shared machine does not land on one backend only.
 * Both mirrors must hold the same number of rows in every synced table, or the bench fails.
 *
 * Runs alone with `npx tsx bench/sync-pg.ts [people] [rounds]` (default 500 people, 2 rounds);
 * PGURL picks the server (default: the local one, as the superuser).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { startSimProcess } from './sim-process.js';
import { ADMIN_URL, scratchDatabase } from './pg-scratch.js';
import { childEnv, runChild, type ChildRun } from './sync.js';


/** The mirror's synced tables, whose row counts must agree between the backends. */
const TABLES = [
  'people',
  'person_tags',
  'custom_fields',
  'subscriptions',
  'person_contacted_users',
  'communication_channels',
  'chat_messages',
  'orders',
  'order_status_history',
  'tags',
  'users',
  'tunnels',
  'leadgentools',
  'tunnel_stats',
  'connections',
  'template_categories',
  'message_templates',
  'accounts',
  'sync_state',
] as const;

function sqliteCounts(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    return Object.fromEntries(TABLES.map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n]));
  } finally {
    db.close();
  }
}

async function pgCounts(url: string): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const out: Record<string, number> = {};
    for (const t of TABLES) out[t] = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]!.n);
    return out;
  } finally {
    await c.end();
  }
}

/**
 * The median of 200 `SELECT 1` round trips: each statement of the PostgreSQL sync pays one, and on
 * a machine whose cores are all busy it is a wait for the server's backend to be scheduled.
 */
async function roundTripMs(): Promise<number> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    const ms: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await c.query('SELECT 1');
      ms.push(performance.now() - t);
    }
    return ms.sort((a, b) => a - b)[100]!;
  } finally {
    await c.end();
  }
}

export interface SyncPgBench {
  people: number;
  latencyMs: number;
  concurrency: number;
  rounds: number;
  requests: number;
  sqliteMs: number;
  pgMs: number;
  /** Best PG wall time / best SQLite wall time. */
  ratio: number;
  sqliteCpuMs: number;
  pgCpuMs: number;
  cpuRatio: number;
  sqliteRssMb: number;
  pgRssMb: number;
  rows: number;
  /** Median `SELECT 1` round trip to the server, measured before the runs. */
  roundTripMs: number;
}

export async function benchSyncPg(opts: { people: number; latencyMs: number; concurrency: number; pageSize: number; rounds?: number }): Promise<SyncPgBench> {
  const { people, latencyMs, concurrency, pageSize } = opts;
  const rounds = opts.rounds ?? 2;
  const sim = await startSimProcess(['--people', String(people), '--latency', String(latencyMs), '--seed', '42']);
  const dir = mkdtempSync(join(tmpdir(), 'ls-bench-pg-'));
  const databases: { drop(): Promise<void> }[] = [];
  const env = (databaseUrl: string) => childEnv(sim, databaseUrl, { LEELOO_PAGE_SIZE: String(pageSize), SYNC_CONCURRENCY: String(concurrency) });
  const best = (runs: ChildRun[], k: keyof Pick<ChildRun, 'ms'>) => runs.reduce((a, r) => (r[k] < a[k] ? r : a));
  try {
    const rtt = await roundTripMs();
    const lite: ChildRun[] = [];
    const post: ChildRun[] = [];
    let expected: Record<string, number> | undefined;
    for (let k = 0; k < rounds; k++) {
      // A fresh mirror each time: every run is a full sync of the whole company.
      const path = join(dir, `r${k}.db`);
      lite.push(await runChild(env(path)));
      const counts = sqliteCounts(path);
      rmSync(path, { force: true });
      if (expected && JSON.stringify(counts) !== JSON.stringify(expected)) throw new Error('two SQLite syncs of the same company disagree');
      expected = counts;

      const scratch = await scratchDatabase();
      databases.push(scratch);
      post.push(await runChild(env(scratch.url)));
      const got = await pgCounts(scratch.url);
      const differ = TABLES.filter((t) => got[t] !== expected![t]);
      if (differ.length > 0) throw new Error(`PostgreSQL and SQLite mirrors differ: ${differ.map((t) => `${t} ${got[t]} vs ${expected![t]}`).join(', ')}`);
      await scratch.drop();
      databases.pop();
    }
    const l = best(lite, 'ms');
    const p = best(post, 'ms');
    return {
      people,
      latencyMs,
      concurrency,
      rounds,
      requests: p.requests,
      sqliteMs: Math.round(l.ms),
      pgMs: Math.round(p.ms),
      ratio: p.ms / l.ms,
      sqliteCpuMs: Math.round(l.cpuMs),
      pgCpuMs: Math.round(p.cpuMs),
      cpuRatio: p.cpuMs / l.cpuMs,
      sqliteRssMb: Math.round(l.maxRssMb),
      pgRssMb: Math.round(p.maxRssMb),
      rows: Object.values(expected ?? {}).reduce((a, n) => a + n, 0),
      roundTripMs: rtt,
    };
  } finally {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
    for (const d of databases) await d.drop().catch(() => {});
  }
}

export const describeSyncPg = (b: SyncPgBench) =>
  `${b.ratio.toFixed(2)} (${b.pgMs} ms vs ${b.sqliteMs} ms, best of ${b.rounds}; ${b.requests} requests, ${b.rows} rows; sync CPU ${b.pgCpuMs} vs ${b.sqliteCpuMs} ms = ${b.cpuRatio.toFixed(2)}; peak RSS ${b.pgRssMb} vs ${b.sqliteRssMb} MB; \`SELECT 1\` round trip ${b.roundTripMs.toFixed(2)} ms)`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const b = await benchSyncPg({ people: Number(process.argv[2]) || 500, latencyMs: 40, concurrency: 8, pageSize: 100, rounds: Number(process.argv[3]) || 2 });
  console.log(`full sync of ${b.people} people (${b.latencyMs} ms latency, concurrency ${b.concurrency}), PostgreSQL vs SQLite wall time: ${describeSyncPg(b)} (target ≤ 1.30)`);
}

/**
 * Deadlocks of full syncs into fresh PostgreSQL databases (bench/pg-scratch.ts), then of an
 * incremental run after 1 % activity, per latency and SYNC_CONCURRENCY: the server's own count
 * (pg_stat_database.deadlocks of the scratch database) and the relations its log names for
 * them (`CONTEXT: … in relation "…"`), read from the server log when this process can.
 * One sync at a time, each in its own process on the compiled dist/ (`npm run build` first).
 *
 * `npx tsx bench/deadlocks-pg.ts [people] [rounds] [activity]` (default 2,000 people, 1 round,
 * activity ×1: 30 new messages, 2 new people, 20 changed and 2 new orders); PG_LOG picks the
 * server log (default /var/log/postgresql/postgresql-15-main.log), BENCH_CONCURRENCY and
 * BENCH_LATENCY narrow the runs to one value each.
 */
import { readFileSync, statSync } from 'node:fs';
import pg from 'pg';
import { scratchDatabase } from './pg-scratch.js';
import { startSimProcess } from './sim-process.js';
import { childEnv, runChild } from './sync.js';

const LOG = process.env.PG_LOG || '/var/log/postgresql/postgresql-15-main.log';

async function deadlocksOf(url: string, name: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // The sync's backends flushed their statistics when they exited with its pool.
    const r = await c.query<{ n: string }>('SELECT deadlocks AS n FROM pg_stat_database WHERE datname = $1', [name]);
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await c.end();
  }
}

const logSize = () => {
  try {
    return statSync(LOG).size;
  } catch {
    return -1;
  }
};

/** The relations the server log names for this database's deadlocks since `from` (a byte offset). */
function relationsInLog(name: string, from: number): Record<string, number> {
  if (from < 0) return {};
  let text: string;
  try {
    text = readFileSync(LOG).subarray(from).toString('utf8');
  } catch {
    return {};
  }
  const out: Record<string, number> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.includes(`@${name} ERROR:  deadlock detected`)) continue;
    for (let j = i + 1; j < Math.min(lines.length, i + 12); j++) {
      const m = /@\S+ CONTEXT: .* in relation "([^"]+)"/.exec(lines[j]!);
      if (m) {
        out[m[1]!] = (out[m[1]!] ?? 0) + 1;
        break;
      }
    }
  }
  return out;
}

const people = Number(process.argv[2]) || 2000;
const rounds = Number(process.argv[3]) || 1;
const activity = Number(process.argv[4]) || 1;
const only = (v: string | undefined, all: number[]) => (v ? [Number(v)] : all);
for (const latency of only(process.env.BENCH_LATENCY, [0, 20])) {
  const sim = await startSimProcess(['--people', String(people), '--latency', String(latency), '--seed', '42']);
  try {
    for (const concurrency of only(process.env.BENCH_CONCURRENCY, [8, 16])) {
      for (let k = 0; k < rounds; k++) {
        const db = await scratchDatabase();
        try {
          const env = childEnv(sim, db.url, { SYNC_CONCURRENCY: String(concurrency) });
          const at = logSize();
          const full = await runChild(env);
          const fullDeadlocks = await deadlocksOf(db.url, db.name);
          await sim.activity({ messages: 30 * activity, newPeople: 2 * activity, orderChanges: 20 * activity, newOrders: 2 * activity });
          const inc = await runChild(env);
          const incDeadlocks = (await deadlocksOf(db.url, db.name)) - fullDeadlocks;
          console.log(
            JSON.stringify({ people, latency, concurrency, activity, fullMs: Math.round(full.ms), fullDeadlocks, incMs: Math.round(inc.ms), incDeadlocks, relations: relationsInLog(db.name, at) }),
          );
        } finally {
          await db.drop();
        }
      }
    }
  } finally {
    await sim.stop();
  }
}

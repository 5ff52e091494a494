/**
 * One full sync into a database file that is kept, for EXPLAIN QUERY PLAN and size checks after.
 * Not part of `npm run bench`. Runs the compiled dist/ (`npm run build` first).
 * Usage: npx tsx bench/cpu-keepdb.ts DB_PATH [people=2000]   (AB_LATENCY=ms: simulator latency)
 */
import { startSimProcess } from './sim-process.js';
import { childEnv, childRun } from './sync.js';

const db = process.argv[2];
if (!db) throw new Error('usage: npx tsx bench/cpu-keepdb.ts DB_PATH [people=2000]');
const people = Number(process.argv[3] ?? 2000);
const sim = await startSimProcess([...(process.env.AB_LATENCY ? ['--latency', process.env.AB_LATENCY] : []), '--people', String(people), '--seed', '42']);
try {
  const { code, out } = await childRun(childEnv(sim, db));
  if (code !== 0) throw new Error(`child exited ${code}: ${out}`);
  console.log(out.trim().split('\n').at(-1));
} finally {
  await sim.stop();
}

/**
 * One full sync into a database file that is kept, for EXPLAIN QUERY PLAN and size checks after.
 * Not part of `npm run bench`. Runs the compiled dist/ (`npm run build` first).
 * Usage: npx tsx bench/cpu-keepdb.ts DB_PATH [people=2000]   (AB_LATENCY=ms: simulator latency)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSimProcess } from './sim-process.js';

const db = process.argv[2];
if (!db) throw new Error('usage: npx tsx bench/cpu-keepdb.ts DB_PATH [people=2000]');
const people = Number(process.argv[3] ?? 2000);
const sim = await startSimProcess([...(process.env.AB_LATENCY ? ['--latency', process.env.AB_LATENCY] : []), '--people', String(people), '--seed', '42']);
try {
  const out = await new Promise<string>((done, fail) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./sync-child.mjs', import.meta.url))], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', LEELOO_API_URL: sim.url, LEELOO_API_TOKEN: sim.token, DATABASE_URL: db, LEELOO_RATE_LIMIT: '100000', SYNC_CONCURRENCY: '8' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let s = '';
    child.stdout.on('data', (d: Buffer) => (s += d.toString()));
    child.on('exit', (code) => (code === 0 ? done(s) : fail(new Error(`child exited ${code}: ${s}`))));
  });
  console.log(out.trim().split('\n').at(-1));
} finally {
  await sim.stop();
}

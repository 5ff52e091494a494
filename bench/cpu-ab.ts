/**
 * CPU per request of two builds of the sync, alternated against one simulator, so that the
 * shared machine's load falls on both alike. Each tree's compiled dist/ (`npm run build` in
 * each first) runs a full sync into a fresh SQLite file, in its own process. Not part of `npm run bench`.
 * Usage: npx tsx bench/cpu-ab.ts OTHER_TREE [people=2000] [rounds=2]   (AB_LATENCY=ms: simulator latency)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimProcess } from './sim-process.js';
import { childEnv, childRun } from './sync.js';

const other = process.argv[2];
if (!other) throw new Error('usage: npx tsx bench/cpu-ab.ts OTHER_TREE [people=2000] [rounds=2]');
const people = Number(process.argv[3] ?? 2000);
const rounds = Number(process.argv[4] ?? 2);
const trees = { this: fileURLToPath(new URL('..', import.meta.url)), other: resolve(other) };

const sim = await startSimProcess([...(process.env.AB_LATENCY ? ['--latency', process.env.AB_LATENCY] : []), '--people', String(people), '--seed', '42']);
const dir = mkdtempSync(join(tmpdir(), 'ls-ab-'));
try {
  for (let round = 1; round <= rounds; round++) {
    for (const [name, tree] of round % 2 ? Object.entries(trees) : Object.entries(trees).reverse()) {
      const db = join(dir, `${name}-${round}.db`);
      const { code, out, result: r } = await childRun(childEnv(sim, db), { script: join(tree, 'bench/sync-child.mjs') });
      if (code !== 0 || !r) throw new Error(`${name} exited ${code}: ${out}`);
      const io = r.io ? `, written ${(r.io.writeBytes / r.requests / 1024).toFixed(1)} KiB and ${(r.io.syscw / r.requests).toFixed(1)} write calls a request` : '';
      console.log(`round ${round} ${name.padEnd(5)} ${r.ok ? 'ok' : 'FAILED'} ${r.requests} requests, ${Math.round(r.ms)} ms wall, ${Math.round(r.cpuMs)} ms CPU, ${(r.cpuMs / r.requests).toFixed(3)} ms CPU/request (system ${(r.systemMs / r.requests).toFixed(3)}), peak RSS ${Math.round(r.maxRssMb)} MB${io}`);
    }
  }
} finally {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The simulator's CPU per request, two builds alternated: each tree's `leeloo-sync sim` (its
 * compiled dist/; `npm run build` in each first) serves one full sync by this tree's sync child,
 * and its process's CPU over the sync (from /proc) is divided by the requests. A fresh simulator
 * per run, so no run reads a history another one cached. Not part of `npm run bench`.
 * Usage: npx tsx bench/sim-ab.ts OTHER_TREE [people=2000] [rounds=2] [latencyMs=0]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimProcess } from './sim-process.js';
import { childEnv, childRun } from './sync.js';

const other = process.argv[2];
if (!other) throw new Error('usage: npx tsx bench/sim-ab.ts OTHER_TREE [people=2000] [rounds=2] [latencyMs=0]');
const people = Number(process.argv[3] ?? 2000);
const rounds = Number(process.argv[4] ?? 2);
const latency = Number(process.argv[5] ?? 0);
const trees = { this: fileURLToPath(new URL('..', import.meta.url)), other: resolve(other) };

const dir = mkdtempSync(join(tmpdir(), 'ls-simab-'));
const sums: Record<string, { cpu: number; requests: number }> = { this: { cpu: 0, requests: 0 }, other: { cpu: 0, requests: 0 } };
try {
  for (let round = 1; round <= rounds; round++) {
    for (const [name, tree] of round % 2 ? Object.entries(trees) : Object.entries(trees).reverse()) {
      const sim = await startSimProcess(['--people', String(people), '--seed', '42', '--latency', String(latency)], { bin: join(tree, 'bin/leeloo-sync.js') });
      try {
        const before = sim.cpuMs();
        const { code, out, result: r } = await childRun(childEnv(sim, join(dir, `${name}-${round}.db`)));
        if (code !== 0 || !r) throw new Error(`sync against ${name} exited ${code}: ${out}`);
        const cpu = sim.cpuMs() - before;
        sums[name]!.cpu += cpu;
        sums[name]!.requests += r.requests;
        console.log(`round ${round} ${name.padEnd(5)} ${r.ok ? 'ok' : 'FAILED'} ${r.requests} requests, ${Math.round(r.ms)} ms wall, simulator ${Math.round(cpu)} ms CPU, ${(cpu / r.requests).toFixed(3)} ms CPU/request`);
      } finally {
        await sim.stop();
      }
    }
  }
  const per = (n: string) => sums[n]!.cpu / sums[n]!.requests;
  console.log(`simulator CPU/request: this ${per('this').toFixed(3)} ms, other ${per('other').toFixed(3)} ms, this/other ${(per('this') / per('other')).toFixed(2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

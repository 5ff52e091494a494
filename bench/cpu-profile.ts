/**
 * `node --cpu-prof` of one full sync (the child process only) against the simulator in its own
 * process, then a summary of the profile by function and by module. Not part of `npm run bench`.
 * Runs the compiled dist/ (`npm run build` first). With `--sim` the simulator's process is the one
 * profiled instead (the sync child runs unprofiled), and its CPU per request is printed.
 * `--latency=MS` gives every answer that delay (the simulator's --latency).
 * Usage: npx tsx bench/cpu-profile.ts [--sim] [--latency=MS] [people=2000] [outDir=/tmp]
 *    or: npx tsx bench/cpu-profile.ts some.cpuprofile (summary of an existing profile only)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimProcess } from './sim-process.js';
import { childEnv, childRun } from './sync.js';

const profileSim = process.argv.includes('--sim');
// AB_LATENCY (as bench/cpu-ab.ts reads it) is the default of --latency.
const latency = Number(process.argv.find((a) => a.startsWith('--latency='))?.slice('--latency='.length) ?? process.env.AB_LATENCY ?? 0);
const argv = process.argv.slice(2).filter((a) => a !== '--sim' && !a.startsWith('--latency='));
const people = Number(argv[0] ?? 2000);
const outDir = argv[1] ?? '/tmp';

if (argv[0]?.endsWith('.cpuprofile')) {
  summarise(argv[0]);
  process.exit(0);
}
// Before the simulator starts: a bad outDir must not leave it running.
const profDir = mkdtempSync(join(outDir, 'cpuprof-'));
const dir = mkdtempSync(join(tmpdir(), 'ls-prof-'));
const prof = ['--cpu-prof', '--cpu-prof-dir', profDir];
const sim = await startSimProcess(['--people', String(people), '--seed', '42', '--latency', String(latency)], { nodeArgs: profileSim ? prof : [] });
let stopped = false;
try {
  const simCpuBefore = sim.cpuMs();
  const { code, out, result: r } = await childRun(childEnv(sim, join(dir, 'p.db')), { nodeArgs: profileSim ? [] : prof });
  if (code !== 0 || !r) throw new Error(`child exited ${code}: ${out}`);
  const simCpu = sim.cpuMs() - simCpuBefore;
  const connections = await sim.connections();
  // The simulator writes its profile when it exits.
  await sim.stop();
  stopped = true;
  const file = join(profDir, readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))!);
  console.log(`${people} people: ${r.requests} requests, ${Math.round(r.ms)} ms wall, sync ${Math.round(r.cpuMs)} ms CPU, ${(r.cpuMs / r.requests).toFixed(3)} ms CPU/request`);
  console.log(`simulator${profileSim ? ' (profiled)' : ''}: ${Math.round(simCpu)} ms CPU during the sync, ${(simCpu / r.requests).toFixed(3)} ms CPU/request, ${connections} connections accepted`);
  console.log(`profile (${profileSim ? 'simulator' : 'sync'}): ${file}`);
  summarise(file);
} finally {
  if (!stopped) await sim.stop();
  rmSync(dir, { recursive: true, force: true });
}

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }

export function summarise(file: string, top = 25): void {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, p.timeDeltas[i] ?? 0)));
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const short = (url: string) => url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/').replace(/^node:/, 'node:') || '(native)';
  const fnKey = (n: Node) => `${n.callFrame.functionName || '(anon)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const modKey = (n: Node) => {
    const u = short(n.callFrame.url);
    const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
    return m ? m[1]! : u.startsWith('src/') || u.startsWith('bench/') ? u : u.startsWith('node:') ? u.split('/')[0]! : n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : u || '(native)';
  };
  const agg = (key: (n: Node) => string) => {
    const self = new Map<string, number>();
    const total = new Map<string, number>();
    for (const [id, us] of selfUs) {
      const n = byId.get(id)!;
      self.set(key(n), (self.get(key(n)) ?? 0) + us);
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const k = key(byId.get(cur)!);
        if (seen.has(k)) continue;
        seen.add(k);
        total.set(k, (total.get(k) ?? 0) + us);
      }
    }
    return { self, total };
  };
  const print = (title: string, m: { self: Map<string, number>; total: Map<string, number> }, by: 'self' | 'total') => {
    console.log(`\n${title} (top ${top} by ${by}; profile ${Math.round(totalUs / 1000)} ms)`);
    const rows = [...m[by]].sort((a, b) => b[1] - a[1]).slice(0, top);
    for (const [k] of rows) {
      const s = m.self.get(k) ?? 0, t = m.total.get(k) ?? 0;
      console.log(`${(s / 1000).toFixed(0).padStart(7)} ms ${((100 * s) / totalUs).toFixed(1).padStart(5)}% self ${(t / 1000).toFixed(0).padStart(7)} ms ${((100 * t) / totalUs).toFixed(1).padStart(5)}% total  ${k}`);
    }
  };
  const f = agg(fnKey), mo = agg(modKey);
  print('functions', f, 'self');
  print('functions', f, 'total');
  print('modules', mo, 'self');
  print('modules', mo, 'total');
}

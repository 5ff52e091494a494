/**
 * One sync in its own process, so the benchmark measures it apart from the simulator and can
 * read its peak RSS. Configured by the environment like the CLI; prints one JSON line.
 *
 * Plain JavaScript run by plain node, loading the compiled dist/ (what the CLI runs; `npm run
 * bench` builds it first): through tsx, the child's CPU included transpiling every module and
 * esbuild's helpers on hot paths (7 % of a 2,000-people sync's profile).
 * `statements` is there only when bench/count-statements.mjs runs this child.
 */
import { readFileSync } from 'node:fs';

const dist = new URL('../dist/src/', import.meta.url);
const { loadConfig } = await import(new URL('config.js', dist).href);
const { silentLogger } = await import(new URL('log.js', dist).href);
const { syncOnce } = await import(new URL('cli/sync.js', dist).href);

const env = loadConfig(process.env, { requireToken: true });
// CPU before the sync starts (node, dist/'s imports, config): part of cpuMs, reported apart.
const startCpu = process.cpuUsage();
const started = performance.now();
const result = await syncOnce(env, silentLogger, { trigger: 'bench', tty: false, full: process.env.BENCH_FULL === '1' });
const ms = performance.now() - started;
const cpu = process.cpuUsage();
const requests = result.streams.reduce((a, s) => a + s.counters.requests, 0);
// Linux only: bytes this process had written to storage (the mirror's WAL, checkpoints) and its
// write syscalls, for pages written per request (absent elsewhere).
const io = (() => {
  try {
    const f = Object.fromEntries(readFileSync('/proc/self/io', 'utf8').trim().split('\n').map((l) => l.split(': ')));
    return { writeBytes: Number(f.write_bytes), syscw: Number(f.syscw) };
  } catch {
    return undefined;
  }
})();
process.stdout.write(
  `${JSON.stringify({ ok: result.ok, ms, meanInFlight: result.meanInFlight, cpuMs: (cpu.user + cpu.system) / 1000, systemMs: cpu.system / 1000, io, startCpuMs: (startCpu.user + startCpu.system) / 1000, requests, statements: globalThis.__benchStatements?.(), maxRssMb: process.resourceUsage().maxRSS / 1024, failed: result.streams.filter((s) => s.status !== 'succeeded').map((s) => `${s.stream}: ${s.error}`) })}\n`,
);

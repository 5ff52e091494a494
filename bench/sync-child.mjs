/**
 * One sync in its own process, so the benchmark measures it apart from the simulator and can
 * read its peak RSS. Configured by the environment like the CLI; prints one JSON line.
 *
 * Plain JavaScript run by plain node, loading the compiled dist/ (what the CLI runs; `npm run
 * bench` builds it first): through tsx, the child's CPU included transpiling every module and
 * esbuild's helpers on hot paths (7 % of a 2,000-people sync's profile).
 * `statements` is there only when bench/count-statements.mjs runs this child.
 */
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
process.stdout.write(
  `${JSON.stringify({ ok: result.ok, ms, meanInFlight: result.meanInFlight, cpuMs: (cpu.user + cpu.system) / 1000, startCpuMs: (startCpu.user + startCpu.system) / 1000, requests, statements: globalThis.__benchStatements?.(), maxRssMb: process.resourceUsage().maxRSS / 1024, failed: result.streams.filter((s) => s.status !== 'succeeded').map((s) => `${s.stream}: ${s.error}`) })}\n`,
);

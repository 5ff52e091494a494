/**
 * One sync in its own process, so the benchmark measures it apart from the simulator and can
 * read its peak RSS. Configured by the environment like the CLI; prints one JSON line.
 */
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { syncOnce } from '../src/cli/sync.js';

const env = loadConfig(process.env, { requireToken: true });
const started = performance.now();
const result = await syncOnce(env, silentLogger, { trigger: 'bench', tty: false, full: process.env.BENCH_FULL === '1' });
const ms = performance.now() - started;
const cpu = process.cpuUsage();
const requests = result.streams.reduce((a, s) => a + s.counters.requests, 0);
process.stdout.write(
  `${JSON.stringify({ ok: result.ok, ms, meanInFlight: result.meanInFlight, cpuMs: (cpu.user + cpu.system) / 1000, requests, maxRssMb: process.resourceUsage().maxRSS / 1024, failed: result.streams.filter((s) => s.status !== 'succeeded').map((s) => `${s.stream}: ${s.error}`) })}\n`,
);

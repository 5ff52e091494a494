/**
 * One full sync of a large company, the measures that need one: wall time against the
 * request-bound floor (issue #13 item 5), peak RSS (item 4), and the sync process's CPU per
 * request against a CPU floor taken over the same answers in the same run (item 2).
 * Alone: node --import tsx bench/scale.ts [people=2000] [latencyMs=20] [concurrency=8]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureFloor, type Floor } from './floor.js';
import { startSimProcess } from './sim-process.js';
import { minimalFullRequests, runChild, shapeOf } from './sync.js';

export interface ScaleBench {
  people: number;
  latencyMs: number;
  concurrency: number;
  wallMs: number;
  requests: number;
  minimalRequests: number;
  /** minimal requests × latency ÷ concurrency */
  floorMs: number;
  wallVsFloor: number;
  meanInFlight: number;
  maxRssMb: number;
  cpuMs: number;
  cpuPerRequestMs: number;
  floor: Floor;
  cpuVsFloor: number;
  /** The simulator process's CPU over the sync ÷ requests (from /proc; it shares the cores). */
  simCpuPerRequestMs: number;
}

/** About this many answers are recorded for the CPU floor, evenly spread over the run. */
const FLOOR_SAMPLE = 8_000;

export async function benchScale(opts: { people: number; latencyMs: number; concurrency: number; pageSize?: number }): Promise<ScaleBench> {
  const { people, latencyMs, concurrency } = opts;
  const pageSize = opts.pageSize ?? 100;
  const sim = await startSimProcess(['--people', String(people), '--latency', String(latencyMs), '--seed', '42']);
  const dir = mkdtempSync(join(tmpdir(), 'ls-scale-'));
  const dbPath = join(dir, 'scale.db');
  try {
    // A full sync takes about 3 requests a person.
    await sim.record(join(dir, 'answers.txt'), Math.max(1, Math.round((3 * people) / FLOOR_SAMPLE)));
    const simCpuBefore = sim.cpuMs();
    const run = await runChild({
      LEELOO_API_URL: sim.url,
      LEELOO_API_TOKEN: sim.token,
      DATABASE_URL: dbPath,
      LEELOO_RATE_LIMIT: '100000',
      LEELOO_PAGE_SIZE: String(pageSize),
      SYNC_CONCURRENCY: String(concurrency),
    });
    const simCpuMs = sim.cpuMs() - simCpuBefore;
    await sim.stopRecording();
    const minimal = minimalFullRequests(shapeOf(dbPath, pageSize), pageSize);
    const floorMs = (minimal * latencyMs) / concurrency;
    const floor = measureFloor(join(dir, 'answers.txt'));
    const cpuPerRequestMs = run.cpuMs / run.requests;
    return {
      people,
      latencyMs,
      concurrency,
      wallMs: Math.round(run.ms),
      requests: run.requests,
      minimalRequests: minimal,
      floorMs: Math.round(floorMs),
      wallVsFloor: floorMs > 0 ? run.ms / floorMs : Number.NaN,
      meanInFlight: Number(run.meanInFlight.toFixed(2)),
      maxRssMb: Math.round(run.maxRssMb),
      cpuMs: Math.round(run.cpuMs),
      cpuPerRequestMs,
      floor,
      cpuVsFloor: cpuPerRequestMs / floor.msPerRequest,
      simCpuPerRequestMs: simCpuMs / run.requests,
    };
  } finally {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [people = 2000, latencyMs = 20, concurrency = 8] = process.argv.slice(2).map(Number);
  const r = await benchScale({ people, latencyMs, concurrency });
  console.log(JSON.stringify({ ...r, at: new Date().toISOString() }, null, 1));
}

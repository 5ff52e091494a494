/**
 * One full sync of a large company, the measures that need one: wall time against the
 * request-bound floor (issue #13 item 5), peak RSS (item 4), and the sync process's CPU per
 * request against a CPU floor taken over the same answers in the same run (item 2). Beside the
 * CPU floor (parse + inserts, which leaves HTTP out), a transport floor over the same requests
 * against the same simulator (bench/transport-floor.mjs), so the ratio says what the sync spends
 * beyond both.
 * Alone: node --import tsx bench/scale.ts [people=2000] [latencyMs=20] [concurrency=8]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureFloor, type Floor } from './floor.js';
import { startSimProcess } from './sim-process.js';
import { childEnv, minimalFullRequests, runChild, shapeOf } from './sync.js';
import { measureTransportFloor, type TransportFloor } from './transport.js';

const COUNTING_CHILD = fileURLToPath(new URL('./count-statements.mjs', import.meta.url));

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
  /** sync CPU per request ÷ the CPU floor's: issue #13's target (≤ 2). */
  cpuVsFloor: number;
  /** Of cpuMs, the sync child's CPU before the sync began (node start-up, imports, config). */
  startCpuMs: number;
  /** The recorded requests replayed by a minimal undici client, at 0 latency, in its own process. */
  transport: TransportFloor;
  /** The same replay with the simulator still at the sync's latency: context for the 0-latency floor. */
  transportAtLatency: TransportFloor;
  /** CPU floor + transport floor, per request. */
  bothFloorsMsPerRequest: number;
  /** sync CPU per request ÷ (CPU floor + transport floor): context, not a target. */
  cpuVsBothFloors: number;
  /** Rows the CPU floor inserted ÷ recorded answers. */
  rowsPerAnswer: number;
  /** SQL statements the sync ran (prepared run/all/get/iterate) ÷ its requests. */
  statementsPerAnswer: number;
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
    const run = await runChild(childEnv(sim, dbPath, { LEELOO_PAGE_SIZE: String(pageSize), SYNC_CONCURRENCY: String(concurrency) }), COUNTING_CHILD);
    const simCpuMs = sim.cpuMs() - simCpuBefore;
    await sim.stopRecording();
    const minimal = minimalFullRequests(shapeOf(dbPath, pageSize), pageSize);
    const floorMs = (minimal * latencyMs) / concurrency;
    // The same requests again, from the same simulator (its world unchanged by a read-only sync).
    // The floor is taken without latency, like the CPU floor free of waiting; once before that at
    // the sync's latency, for context: answers that arrive one by one cost more wake-ups each
    // (docs/benchmarks.md, "Transport floor, session 16").
    const replay = { url: sim.url, token: sim.token, recording: join(dir, 'answers.txt'), concurrency };
    const transportAtLatency = await measureTransportFloor(replay);
    await sim.setKnobs({ latencyMs: 0 });
    const transport = await measureTransportFloor(replay);
    const floor = measureFloor(join(dir, 'answers.txt'));
    const cpuPerRequestMs = run.cpuMs / run.requests;
    const bothFloorsMsPerRequest = floor.msPerRequest + transport.msPerRequest;
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
      startCpuMs: Math.round(run.startCpuMs),
      transport,
      transportAtLatency,
      bothFloorsMsPerRequest,
      cpuVsBothFloors: cpuPerRequestMs / bothFloorsMsPerRequest,
      rowsPerAnswer: floor.pages > 0 ? floor.rows / floor.pages : 0,
      statementsPerAnswer: (run.statements ?? Number.NaN) / run.requests,
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
  for (const line of describeFloors(r)) console.log(line);
}

/** The CPU-per-request figures side by side, one line each (also bench/run.ts's rows). */
export function describeFloors(r: ScaleBench): string[] {
  const ms = (v: number) => `${v.toFixed(3)} ms`;
  return [
    `sync CPU per request: ${ms(r.cpuPerRequestMs)} (${r.requests} requests; ${r.startCpuMs} ms of the child's CPU before the sync began, ${ms(r.startCpuMs / r.requests)} a request)`,
    `CPU floor (JSON.parse + prepared inserts): ${ms(r.floor.msPerRequest)} over ${r.floor.pages} recorded answers, ${r.rowsPerAnswer.toFixed(1)} rows an answer`,
    `transport floor (undici Pool, ${r.concurrency} in flight, 0 ms latency): ${ms(r.transport.msPerRequest)} (user ${ms(r.transport.userMs / r.transport.requests)}, system ${ms(r.transport.systemMs / r.transport.requests)}) over the same ${r.transport.requests} requests`,
    `transport replay at the sync's ${r.latencyMs} ms latency (context): ${ms(r.transportAtLatency.msPerRequest)} (user ${ms(r.transportAtLatency.userMs / r.transportAtLatency.requests)}, system ${ms(r.transportAtLatency.systemMs / r.transportAtLatency.requests)})`,
    `CPU floor + transport floor: ${ms(r.bothFloorsMsPerRequest)}`,
    `sync ÷ CPU floor: ${r.cpuVsFloor.toFixed(2)} (issue #13 target ≤ 2)`,
    `sync ÷ (CPU floor + transport floor): ${r.cpuVsBothFloors.toFixed(2)} (context); with the transport replay at ${r.latencyMs} ms: ${(r.cpuPerRequestMs / (r.floor.msPerRequest + r.transportAtLatency.msPerRequest)).toFixed(2)}`,
    `SQL statements per answer (sync): ${r.statementsPerAnswer.toFixed(1)}`,
  ];
}

/**
 * `npm run bench`: performance targets as ratios against a baseline measured in the same run
 * (never absolute timings). Options: --quick (smaller sizes), --rss 10000 (the sizes of the
 * latency-free runs besides the scale run's, which always has one: item 2's CPU per request),
 * --scale 100000 (the size of the 20 ms run and of that latency-free run).
 */
import { benchUpsert } from './upsert.js';
import { benchUpsertPg } from './upsert-pg.js';
import { benchStartup } from './startup.js';
import { benchRss, benchSync, type RssRun } from './sync.js';
import { benchSyncPg, describeSyncPg } from './sync-pg.js';
import { benchWrites } from './writes.js';
import { benchRateLimit } from './ratelimit.js';
import { benchViews } from './views.js';
import { benchScale } from './scale.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const rssArg = args[args.indexOf('--rss') + 1];
const scaleArg = args[args.indexOf('--scale') + 1];
// Issue #13: CPU per request, the 20 ms floor and flat RSS, all at 100k people.
const scalePeople = args.includes('--scale') && scaleArg ? Number(scaleArg) : quick ? 10_000 : 100_000;
// The latency-free runs: RSS, and CPU per request as the issue measured its baseline, against a
// fast local server: at its size (2,000 people) and at the scale run's (item 2's target).
const rssSizes = [...new Set([...(args.includes('--rss') && rssArg ? rssArg.split(',').map(Number) : [2000, ...(quick ? [] : [10000])]), scalePeople])];

const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');
const lines: string[] = [];
const row = (name: string, value: string, target: string, ok: boolean) => {
  const line = `| ${name} | ${value} | ${target} | ${verdict(ok)} |`;
  lines.push(line);
  console.log(line);
};

console.log('| measure | value | target | |');
console.log('|---|---|---|---|');

const st = benchStartup();
row(`start-up: \`leeloo-sync --help\` vs \`node -e 0\` (median of ${st.runs})`, `${st.ratio.toFixed(2)} (${st.helpMs} ms vs ${st.nodeMs} ms)`, '≤ 3', st.ratio <= 3);

const up = benchUpsert(quick ? 20_000 : 50_000);
row('upsert rows/s, mirror vs raw prepared inserts', `${up.ratio.toFixed(2)} (${up.mirrorRowsPerSec} vs ${up.rawRowsPerSec} rows/s)`, '≥ 0.70', up.ratio >= 0.7);

const upg = await benchUpsertPg(quick ? 20_000 : 50_000);
row(
  'PostgreSQL upsert rows/s, PgStore vs raw `pg` multi-row INSERT',
  `${upg.ratio.toFixed(2)} (${upg.storeRowsPerSec} vs ${upg.rawRowsPerSec} rows/s; unchanged re-upsert ${upg.reupsertRowsPerSec} rows/s, ${upg.reupsertRatio.toFixed(2)} of raw)`,
  '≥ 0.70',
  upg.ratio >= 0.7,
);

// 40 ms stands for a nearby API (real round trips are longer): enough that the run is bound by
// requests, not by this machine's CPU, which is what the floor assumes.
const s = await benchSync({ people: quick ? 500 : 1000, latencyMs: 40, concurrency: 8, pageSize: 100 });
row(
  `full-sync wall time vs request-bound floor (${s.people} people, ${s.latencyMs} ms latency, concurrency ${s.concurrency})`,
  `${s.wallVsFloor.toFixed(2)} (${s.fullMs} ms vs ${s.floorMs} ms; ${s.fullRequests} requests, minimal ${s.minimalFullRequests}; ${s.meanInFlight} in flight on average; client CPU ${s.cpuMs} ms)`,
  '≤ 1.25',
  s.wallVsFloor <= 1.25,
);
row(
  'requests of an incremental run after 1% activity vs the minimal set',
  `${s.incrementalVsMinimal.toFixed(2)} (${s.incrementalRequests} vs ${s.minimalIncrementalRequests})`,
  '≤ 1.15',
  s.incrementalVsMinimal <= 1.15,
);

// One full sync of the large company: CPU per request against the floor (JSON.parse of the
// answers it read and plain prepared inserts of their rows, bench/floor.ts), wall time against
// the request-bound floor at 20 ms (nearer than any real API), and its peak RSS.
const sc = await benchScale({ people: scalePeople, latencyMs: 20, concurrency: 8 });
row(
  `full-sync wall time vs request-bound floor (${sc.people} people, ${sc.latencyMs} ms latency, concurrency ${sc.concurrency})`,
  `${sc.wallVsFloor.toFixed(2)} (${(sc.wallMs / 1000).toFixed(1)} s vs ${(sc.floorMs / 1000).toFixed(1)} s; ${sc.requests} requests, minimal ${sc.minimalRequests}; ${sc.meanInFlight} in flight on average)`,
  '≤ 1.25',
  sc.wallVsFloor <= 1.25,
);
const rss: RssRun[] = [];
for (const n of rssSizes) rss.push(await benchRss(n));
// Issue #13's baseline, 1.3-1.5 ms of sync CPU per request, was measured against a fast local
// server (2,000 people, 2026-11): the like-for-like figure is the latency-free run. At 20 ms each
// answer arrives alone and wakes an idle process, and the same work costs about twice the CPU;
// a bare undici client replaying the same requests shows the same factor, so the 20 ms figure is
// printed beside it with that factor (docs/benchmarks.md, "CPU per request at latency").
const fast = rss.find((r) => r.people === sc.people);
const ms3 = (v: number) => `${v.toFixed(3)} ms`;
if (fast) {
  const cpu = fast.cpuMs / fast.requests;
  row(
    `CPU per request of the sync process (${fast.people} people, no latency, as the issue's baseline)`,
    `${ms3(cpu)} (${(fast.cpuMs / 1000).toFixed(1)} s CPU / ${fast.requests} requests; kernel ${ms3(fast.systemMs / fast.requests)}; ${fast.writtenKibPerRequest.toFixed(1)} KiB written to storage a request)`,
    '≤ 0.45 ms (1/3 of 1.3-1.5)',
    cpu <= 0.45,
  );
  row(
    'CPU vs floor (JSON.parse + prepared inserts of the same answers)',
    `${(cpu / sc.floor.msPerRequest).toFixed(2)} (floor ${ms3(sc.floor.msPerRequest)} a request over ${sc.floor.pages} recorded answers, ${sc.floor.rows} rows, ${sc.rowsPerAnswer.toFixed(1)} an answer; the sync ran ${sc.statementsPerAnswer.toFixed(1)} SQL statements an answer; the floor leaves HTTP out, and a bare undici client sending the same requests spends ${(sc.transport.msPerRequest / sc.floor.msPerRequest).toFixed(2)}× the floor on that alone)`,
    '≤ 2',
    cpu / sc.floor.msPerRequest <= 2,
  );
  // The CPU floor leaves HTTP out; the transport floor is the same requests sent by a bare undici
  // Pool (bench/transport-floor.mjs), so this ratio says how much of the miss is the sync's own.
  row(
    'CPU vs CPU floor + transport floor (the same requests from a bare undici Pool, 0 ms latency)',
    `${(cpu / sc.bothFloorsMsPerRequest).toFixed(2)} (${ms3(cpu)} vs ${ms3(sc.floor.msPerRequest)} + ${ms3(sc.transport.msPerRequest)} = ${ms3(sc.bothFloorsMsPerRequest)} a request)`,
    'context',
    true,
  );
}
row(
  `CPU per request of the sync process at ${sc.latencyMs} ms latency (${sc.people} people)`,
  `${ms3(sc.cpuPerRequestMs)} (${(sc.cpuMs / 1000).toFixed(1)} s CPU / ${sc.requests} requests${fast ? `; ${(sc.cpuPerRequestMs / (fast.cpuMs / fast.requests)).toFixed(2)}× the latency-free run` : ''}; the bare undici replay ${ms3(sc.transportAtLatency.msPerRequest)} at ${sc.latencyMs} ms vs ${ms3(sc.transport.msPerRequest)} at 0 ms, ${(sc.transportAtLatency.msPerRequest / sc.transport.msPerRequest).toFixed(2)}×; sync start-up ${ms3(sc.startCpuMs / sc.requests)} a request)`,
  'context: the same work, woken per answer',
  true,
);

const spg = await benchSyncPg({ people: quick ? 500 : 1000, latencyMs: 40, concurrency: 8, pageSize: 100 });
row(`full sync on PostgreSQL vs the same sync on SQLite, wall time (${spg.people} people, ${spg.latencyMs} ms latency, concurrency ${spg.concurrency})`, describeSyncPg(spg), '≤ 1.30', spg.ratio <= 1.3);

const sizes = [...rss.map((r) => ({ ...r, label: `${r.people}` })), { people: sc.people, maxRssMb: sc.maxRssMb, ms: sc.wallMs, requests: sc.requests, label: `${sc.people} (${sc.latencyMs} ms)` }];
const peak = Math.max(...sizes.map((r) => r.maxRssMb));
const flat = sizes.length < 2 || sizes.every((r) => r.maxRssMb <= sizes[0]!.maxRssMb * 1.5);
row(
  `peak RSS of a full sync at ${sizes.map((r) => r.label).join(' / ')} people`,
  `${sizes.map((r) => `${r.maxRssMb} MB (${r.requests} requests, ${(r.ms / 1000).toFixed(0)} s${'cpuMs' in r ? `, ${(r.cpuMs / r.requests).toFixed(3)} ms CPU a request` : ''})`).join(' / ')}`,
  '≤ 256 MB and flat',
  peak <= 256 && flat,
);

const w = await benchWrites();
row(
  `write-backs/s vs the simulator’s rate limit (LEELOO_RATE_LIMIT=${w.limiter}${w.learnedCeiling !== null ? `, learned ${w.learnedCeiling.toFixed(1)}/s` : ''})`,
  `${w.ratio.toFixed(2)} (${w.writesPerSecond.toFixed(1)}/s vs ${w.simRateLimit}/s)`,
  '≥ 0.95',
  w.ratio >= 0.95,
);
row(
  'write-backs: queue start to first write; rate from first to last write vs the limit',
  `${w.firstWriteMs} ms; ${w.steadyRatio.toFixed(2)} (per second: ${w.perSecond.join(' ')})`,
  'diagnostic',
  true,
);
row('share of write requests answered 429', `${(w.share429 * 100).toFixed(2)}%`, '≤ 1%', w.share429 <= 0.01);

// LEELOO_RATE_LIMIT=auto against limits the client is not told (20 s a limit, then 8 s restarted from what it learned).
for (const r of await benchRateLimit({ limits: [20, 100, 400] })) {
  const learn = r.learnSeconds === null ? 'never' : `${r.learnSeconds.toFixed(1)} s`;
  row(
    `auto rate limit at ${r.limit}/s: 2xx/s after learning vs the limit`,
    `${r.ratio.toFixed(2)} (learned in ${learn}; ceiling ${r.ceiling?.toFixed(1) ?? '-'}/s, pacing ${r.finalRate.toFixed(1)}/s)`,
    '≥ 0.90',
    r.ratio >= 0.9,
  );
  row(`auto rate limit at ${r.limit}/s: share answered 429 after learning`, `${(r.share429 * 100).toFixed(2)}% (${(r.share429All * 100).toFixed(2)}% with learning; ${r.requests} requests)`, '≤ 1%', r.share429 <= 0.01);
  row(
    `auto rate limit at ${r.limit}/s: next run from the learned rate`,
    `${r.restartRatio.toFixed(2)} of the limit after ${r.restartSeconds === null ? 'never' : `${r.restartSeconds.toFixed(1)} s`}; ${(r.restartShare429 * 100).toFixed(2)}% 429`,
    '≥ 0.90 within 2 s',
    r.restartRatio >= 0.9 && r.restartSeconds !== null && r.restartSeconds <= 2,
  );
}
const v = benchViews(quick ? 20_000 : 100_000);
row(
  `report queries at ${v.people} people (${v.messages} messages, ${v.orders} orders), worst of 3`,
  `${v.maxMs} ms max over the rollups (${v.queries.rollups.map((q) => `${q.name} ${q.maxMs}`).join(', ')} ms); over the views ${v.queries.views.map((q) => `${q.name} ${q.maxMs}`).join(', ')} ms; rewriting the rollups ${v.refreshMs} ms`,
  '≤ 200 ms each',
  v.maxMs <= 200,
);

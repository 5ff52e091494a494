import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startSimProcess } from './sim-process.js';

const CHILD = fileURLToPath(new URL('./sync-child.mjs', import.meta.url));

export interface ChildRun {
  ok: boolean;
  ms: number;
  cpuMs: number;
  /** Of cpuMs, what the child spent before the sync began (node start-up, imports, config). */
  startCpuMs: number;
  /** Of cpuMs, the kernel's share (socket and file writes). */
  systemMs: number;
  /** Linux: bytes the child wrote to storage (WAL frames, checkpoints) and its write syscalls. */
  io?: { writeBytes: number; syscw: number };
  meanInFlight: number;
  requests: number;
  /** SQL statements run, only from bench/count-statements.mjs. */
  statements?: number;
  maxRssMb: number;
  failed: string[];
}

/**
 * The sync child's environment against a simulator: a client-side rate limit too high to pace
 * and SYNC_CONCURRENCY 8, unless `extra` says otherwise.
 */
export function childEnv(sim: { url: string; token: string }, databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return { LEELOO_API_URL: sim.url, LEELOO_API_TOKEN: sim.token, DATABASE_URL: databaseUrl, LEELOO_RATE_LIMIT: '100000', SYNC_CONCURRENCY: '8', ...extra };
}

export interface ChildExit {
  code: number | null;
  /** Everything the child printed on stdout. */
  out: string;
  /** Its last line, parsed; undefined when that is not JSON. */
  result?: ChildRun;
}

/**
 * One sync child run to its exit, whatever it reports: `script` is this tree's
 * bench/sync-child.mjs unless given (another tree's, or a wrapper such as
 * bench/count-statements.mjs), `nodeArgs` go to node before it (e.g. `--cpu-prof`).
 */
export function childRun(env: Record<string, string>, opts: { script?: string; nodeArgs?: readonly string[] } = {}): Promise<ChildExit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.script ?? CHILD], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      let result: ChildRun | undefined;
      try {
        result = JSON.parse(out.trim().split('\n').at(-1) ?? '') as ChildRun;
      } catch {
        result = undefined;
      }
      resolve({ code, out, result });
    });
  });
}

/**
 * One `syncOnce` in its own process (bench/sync-child.mjs, on the compiled dist/), configured by
 * `env`; `script` runs a wrapper of that child instead (bench/count-statements.mjs). Rejects
 * unless the sync succeeded.
 */
export async function runChild(env: Record<string, string>, script: string = CHILD): Promise<ChildRun> {
  const { code, out, result } = await childRun(env, { script });
  if (!result) throw new Error(`bench sync exited with ${code}: ${out}`);
  if (!result.ok) throw new Error(`bench sync failed: ${result.failed.join('; ')}`);
  return result;
}

interface Shape {
  people: number;
  channelPages: number;
  channels: number;
  orders: number;
  users: number;
  tunnels: number;
  categories: number;
}

export function shapeOf(dbPath: string, pageSize: number): Shape {
  const db = new Database(dbPath, { readonly: true });
  const one = (q: string) => (db.prepare(q).get() as { n: number }).n;
  const shape = {
    people: one('SELECT count(*) AS n FROM people'),
    channels: one('SELECT count(*) AS n FROM communication_channels'),
    // One request per channel at least (an empty history is still asked for), more for long ones.
    channelPages: one(
      `SELECT coalesce(sum(max(1, (n + ${pageSize} - 1) / ${pageSize})), 0) AS n
       FROM (SELECT c.id, count(m.id) AS n FROM communication_channels c LEFT JOIN chat_messages m ON m.channel_id = c.id GROUP BY c.id)`,
    ),
    orders: one('SELECT count(*) AS n FROM orders'),
    users: one('SELECT count(*) AS n FROM users'),
    tunnels: one('SELECT count(*) AS n FROM tunnels'),
    categories: one('SELECT count(*) AS n FROM template_categories'),
  };
  db.close();
  return shape;
}

export const pages = (n: number, ps: number) => Math.max(1, Math.ceil(n / ps));

/** Requests for reference data: tags, users, tunnels (+ detail and stats each), connections, categories (+ templates each). */
export const referenceRequests = (s: Shape, ps: number) => 1 + pages(s.users, ps) + pages(s.tunnels, ps) + 2 * s.tunnels + 1 + 1 + s.categories;

/** The fewest requests a full sync of what the mirror holds can take: list pages, one detail per person and order, one history page per 100 messages of each channel, reference data. */
export const minimalFullRequests = (s: Shape, ps: number) =>
  pages(s.people, ps) + s.people + pages(s.channels, ps) + s.channelPages + pages(s.orders, ps) + s.orders + referenceRequests(s, ps);

export interface SyncBench {
  people: number;
  latencyMs: number;
  concurrency: number;
  fullMs: number;
  fullRequests: number;
  minimalFullRequests: number;
  floorMs: number;
  wallVsFloor: number;
  incrementalRequests: number;
  minimalIncrementalRequests: number;
  incrementalVsMinimal: number;
  maxRssMb: number;
  cpuMs: number;
  meanInFlight: number;
}

/** Full-sync wall time vs the request-bound floor, then an incremental run after 1% activity. */
export async function benchSync(opts: { people: number; latencyMs: number; concurrency: number; pageSize: number }): Promise<SyncBench> {
  const { people, latencyMs, concurrency, pageSize } = opts;
  const sim = await startSimProcess(['--people', String(people), '--latency', String(latencyMs), '--seed', '42']);
  const dir = mkdtempSync(join(tmpdir(), 'ls-bench-'));
  const dbPath = join(dir, 'bench.db');
  const env = childEnv(sim, dbPath, { LEELOO_PAGE_SIZE: String(pageSize), SYNC_CONCURRENCY: String(concurrency) });
  try {
    const full = await runChild(env);
    const shape = shapeOf(dbPath, pageSize);
    const minimalFull = minimalFullRequests(shape, pageSize);
    const floorMs = (minimalFull * latencyMs) / concurrency;

    const report = await sim.activity({
      messages: Math.max(1, Math.round(shape.channels * 0.01)),
      newPeople: Math.max(1, Math.round(shape.people * 0.001)),
      orderChanges: Math.max(1, Math.round(shape.orders * 0.01)),
      newOrders: Math.max(1, Math.round(shape.orders * 0.001)),
    });
    await sim.resetCounts();
    await runChild(env);
    const counts = await sim.counts();
    const incrementalRequests = Object.entries(counts)
      .filter(([k]) => /^(GET|POST|PUT|DELETE) /.test(k))
      .reduce((a, [, v]) => a + v, 0);
    const after = shapeOf(dbPath, pageSize);
    const db = new Database(dbPath, { readonly: true });
    const personOf = db.prepare('SELECT person_id AS p FROM communication_channels WHERE id = ?');
    const changedPeople = new Set<string>(report.newPersonIds);
    for (const c of report.messagedChannelIds) changedPeople.add((personOf.get(c) as { p: string }).p);
    const newChannels = (db.prepare(`SELECT count(*) AS n FROM communication_channels WHERE person_id IN (${report.newPersonIds.map(() => '?').join(',') || "''"})`).get(...report.newPersonIds) as { n: number }).n;
    db.close();
    const dueChannels = new Set(report.messagedChannelIds).size + newChannels;
    const changedOrders = new Set([...report.changedOrderIds, ...report.newOrderIds]).size;
    const minimalIncremental =
      pages(changedPeople.size, pageSize) +
      changedPeople.size +
      pages(dueChannels, pageSize) +
      dueChannels +
      pages(after.orders, pageSize) +
      changedOrders +
      referenceRequests(after, pageSize);
    return {
      people,
      latencyMs,
      concurrency,
      fullMs: Math.round(full.ms),
      fullRequests: full.requests,
      minimalFullRequests: minimalFull,
      floorMs: Math.round(floorMs),
      wallVsFloor: full.ms / floorMs,
      incrementalRequests,
      minimalIncrementalRequests: minimalIncremental,
      incrementalVsMinimal: incrementalRequests / minimalIncremental,
      maxRssMb: Math.round(full.maxRssMb),
      cpuMs: Math.round(full.cpuMs),
      meanInFlight: Number(full.meanInFlight.toFixed(2)),
    };
  } finally {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Peak RSS of a full sync of `people` (no latency: as fast as the simulator answers). */
/** A latency-free full sync in its own process: peak RSS (item 4) and CPU per request (item 2). */
export interface RssRun {
  people: number;
  maxRssMb: number;
  ms: number;
  requests: number;
  cpuMs: number;
  systemMs: number;
  /** KiB written to storage a request (Linux; NaN elsewhere). */
  writtenKibPerRequest: number;
}

export async function benchRss(people: number): Promise<RssRun> {
  const sim = await startSimProcess(['--people', String(people), '--seed', '42']);
  const dir = mkdtempSync(join(tmpdir(), 'ls-bench-'));
  try {
    const r = await runChild(childEnv(sim, join(dir, 'rss.db')));
    return {
      people,
      maxRssMb: Math.round(r.maxRssMb),
      ms: Math.round(r.ms),
      requests: r.requests,
      cpuMs: Math.round(r.cpuMs),
      systemMs: Math.round(r.systemMs),
      writtenKibPerRequest: r.io ? r.io.writeBytes / 1024 / r.requests : Number.NaN,
    };
  } finally {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

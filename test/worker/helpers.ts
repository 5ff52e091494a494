import { deletePrefix } from '../../src/redis/keys.js';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { loadConfig, type Env } from '../../src/config.js';
import type { Simulator } from '../../src/sim/index.js';
import { BIN } from '../helpers/cli.js';

import { PrivateRedis, REDIS_URL } from '../helpers/redis.js';

export { freePort, REDIS_URL } from '../helpers/redis.js';

/** A key prefix no other test (or anything else in this Redis) uses. */
export function testPrefix(): string {
  return `lstest-${randomBytes(5).toString('hex')}`;
}

/** Deletes this suite's keys, and only them. */
export async function cleanupPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  try {
    await deletePrefix(url, prefix);
  } catch {
    // Redis already gone (a private one a test stopped): nothing left to clean.
  }
}


export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 50): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(everyMs);
  }
}

/** Environment of a worker against the simulator: fast, small pages, its own prefix and database. */
export function workerEnvVars(sim: Simulator, dbPath: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    LEELOO_API_URL: sim.url,
    LEELOO_API_TOKEN: sim.token,
    DATABASE_URL: dbPath,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    LEELOO_RATE_LIMIT: '5000',
    LEELOO_PAGE_SIZE: '20',
    SYNC_CONCURRENCY: '4',
    DASHBOARD_PORT: '0',
    // No immediate frequent run at boot: each test enqueues exactly what it means to run.
    SCHEDULE_FREQUENT_MINUTES: '0',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

export function workerEnv(sim: Simulator, dbPath: string, prefix: string, extra: Record<string, string> = {}): Env {
  return loadConfig(workerEnvVars(sim, dbPath, prefix, extra), { requireToken: true });
}

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** A pino logger that keeps its lines in memory for assertions. */
export function memoryLogger(level = 'info'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

export interface WorkerChild {
  child: ChildProcessByStdio<null, Readable, Readable>;
  lines: LogLine[];
  stderr: () => string;
  waitForLog(pred: (l: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** `node bin/leeloo-sync.js worker …` as a child process, its JSON log lines parsed; `cwd` default the test's. */
export function spawnWorker(env: Record<string, string>, args: string[] = [], opts: { cwd?: string } = {}): WorkerChild {
  const child = spawn(process.execPath, [BIN, 'worker', ...args], {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let buf = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        lines.push({ level: 0, msg: line });
      }
    }
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return {
    child,
    lines,
    stderr: () => err,
    waitForLog: (pred, what, timeoutMs = 30_000) =>
      waitFor(`log "${what}" (stderr: ${err.slice(-300)})`, () => lines.find(pred), timeoutMs, 25),
    exited,
  };
}

/** A Redis of a test's own on `port`, without persistence; stop() kills it like a crash. */
export async function startPrivateRedis(port: number): Promise<{ url: string; stop(): Promise<void> }> {
  const redis = new PrivateRedis(port);
  await redis.start();
  return redis;
}

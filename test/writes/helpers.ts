import { deletePrefix } from '../../src/redis/keys.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import type { Mirror } from '../../src/db/connection.js';
import type { Simulator } from '../../src/sim/index.js';
import { getWrite, type OutboxRow } from '../../src/writes/store.js';

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

export function uniquePrefix(name: string): string {
  return `test-writes-${name}-${randomUUID().slice(0, 8)}`;
}

/** Deletes every key under `prefix` (BullMQ keys are `prefix:queue:…`). */
export async function cleanPrefix(url: string, prefix: string): Promise<void> {
  await deletePrefix(url, prefix);
}

type Maybe<T> = T | undefined | false | null;

export async function waitFor<T>(what: string, fn: () => Maybe<T> | Promise<Maybe<T>>, timeoutMs = 20_000, everyMs = 25): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const FINAL = new Set(['succeeded', 'failed', 'dead', 'ambiguous', 'cancelled']);

export function waitFinal(mirror: Mirror, id: number, timeoutMs = 20_000): Promise<OutboxRow> {
  return waitFor(`write #${id} to finish`, () => {
    const r = getWrite(mirror, id);
    return r && FINAL.has(r.status) ? r : undefined;
  }, timeoutMs);
}

export function writeCount(sim: Simulator, route: string, personOrTarget?: string): number {
  return sim.writeLog().filter((e) => e.route === route && (personOrTarget === undefined || e.params.id === personOrTarget)).length;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A throwaway redis-server (no persistence: a restart loses every key, like a flush). */
export class PrivateRedis {
  private proc: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    this.proc = proc;
    const until = Date.now() + 5000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with code ${proc.exitCode} (port ${this.port} taken?)`);
      const r = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => undefined);
      try {
        await r.connect();
        if ((await r.ping()) === 'PONG') return;
      } catch {
        if (Date.now() > until) throw new Error(`redis-server on port ${this.port} did not start`);
        await new Promise((res) => setTimeout(res, 50));
      } finally {
        r.disconnect();
      }
    }
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }
}

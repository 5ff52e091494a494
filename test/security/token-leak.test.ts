import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueSyncNow } from '../../jobs/commands.js';
import { loadConfig } from '../../src/config.js';
import { openMirror } from '../../src/db/connection.js';
import { runCli } from '../helpers/cli.js';
import { tempDbPath } from '../helpers/mirror.js';
import { fakeServer } from '../leeloo/fake-server.js';
import { cleanupPrefix, freePort, REDIS_URL, spawnWorker, testPrefix, waitFor, type WorkerChild } from '../worker/helpers.js';

/*
 * A hostile API that answers 401 and echoes the token back, each time in another encoding. The
 * token holds `"`, `\`, `+`, `/`, `=` and a space, so every encoding differs from the raw token.
 * Nothing of it may reach stdout/stderr, pino lines, the database, Redis or the dashboard.
 */
const TOKEN = 'h0st"ile\\T0k+en/9=x ~Q';
const json1 = (s: string) => JSON.stringify(s).slice(1, -1);
const b64 = Buffer.from(TOKEN, 'utf8').toString('base64');
const b64url = Buffer.from(TOKEN, 'utf8').toString('base64url');
const ECHO: Record<string, string> = {
  raw: TOKEN,
  json: TOKEN, // JSON.stringify of the body escapes it
  url: encodeURIComponent(TOKEN),
  urlLower: encodeURIComponent(TOKEN).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  form: encodeURIComponent(TOKEN).replace(/%20/g, '+'),
  base64: b64,
  base64url: b64url,
};
const MODES = Object.keys(ECHO);
/** Every form a leak could take in the text we inspect (also inside a JSON log line, or escaped twice). */
const FORBIDDEN = [
  ...new Set(
    [TOKEN, ECHO.url!, ECHO.urlLower!, ECHO.form!, b64, b64.replace(/=+$/, ''), b64url, new URLSearchParams({ t: TOKEN }).toString().slice(2)].flatMap((f) => [
      f,
      json1(f),
      json1(json1(f)),
    ]),
  ),
];

function leaks(text: string): string[] {
  return FORBIDDEN.filter((f) => text.includes(f));
}

function hostileAnswer(mode: string): { type: string; body: string } {
  if (mode === 'raw') return { type: 'text/plain', body: `Unauthorized token ${TOKEN} refused` };
  return { type: 'application/json', body: JSON.stringify({ status: 0, error: { code: 'UNAUTHORIZED', echo: ECHO[mode] } }) };
}

describe('the token, echoed back in any encoding, never leaks', () => {
  const db = tempDbPath('ls-leak-');
  const prefix = testPrefix();
  let srv: Awaited<ReturnType<typeof fakeServer>>;
  let getMode = 'json';
  let worker: WorkerChild | undefined;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const cliOutput: string[] = [];

  beforeAll(async () => {
    srv = await fakeServer((r, res) => {
      // A write says which encoding it wants echoed (add-comment text `mode:NAME`); reads use getMode.
      let mode = getMode;
      const m = /mode:(\w+)/.exec(r.body);
      if (m) mode = m[1]!;
      const a = hostileAnswer(mode);
      res.writeHead(401, { 'content-type': a.type, 'content-length': Buffer.byteLength(a.body) });
      res.end(a.body);
    });
  });
  afterAll(async () => {
    if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
    if (worker) await worker.exited;
    await srv.close();
    redis.disconnect();
    await cleanupPrefix(prefix);
    db.cleanup();
  });

  const env = (extra: Record<string, string> = {}) => ({
    LEELOO_API_URL: srv.url,
    LEELOO_API_TOKEN: TOKEN,
    DATABASE_URL: db.path,
    LEELOO_RATE_LIMIT: '5000',
    REDIS_URL,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'debug',
    ...extra,
  });

  it('the CLI sync: stdout, stderr and sync_runs.error', async () => {
    for (const mode of MODES) {
      getMode = mode;
      const r = await runCli(['sync', '--streams', 'tags,users'], env());
      expect(r.code, r.stderr).toBe(1);
      cliOutput.push(r.stdout, r.stderr);
      expect(r.stdout + r.stderr, mode).toContain('HTTP 401');
      expect(leaks(r.stdout + r.stderr), mode).toEqual([]);
    }
    const m = openMirror(db.path);
    const errors = (m.sqlite.prepare(`SELECT error FROM sync_runs WHERE error IS NOT NULL`).all() as { error: string }[]).map((x) => x.error);
    m.close();
    expect(errors.filter((e) => e.includes('HTTP 401')).length).toBeGreaterThanOrEqual(MODES.length);
    expect(errors.some((e) => e.includes('[REDACTED]'))).toBe(true);
    expect(leaks(errors.join('\n'))).toEqual([]);
    // Nowhere in the database file either, free pages included.
    expect(FORBIDDEN.filter((f) => readFileSync(db.path).includes(Buffer.from(f)))).toEqual([]);
  }, 120_000);

  it('the worker: write deliveries, a sync job, Redis, its logs and the dashboard', async () => {
    const m = openMirror(db.path);
    const insert = m.sqlite.prepare(`INSERT INTO outbound_writes (kind, target_id, payload) VALUES ('add-comment', ?, ?)`);
    const ids = MODES.map((mode, i) => Number(insert.run(`5e1c4676b70fb2001279c2${String(10 + i)}`, JSON.stringify({ text: `mode:${mode}` })).lastInsertRowid));
    // What an older version may have stored: the dashboard is the last fence and redacts it too.
    // (One stream name each: the dashboard shows the last three runs per stream.)
    const old = m.sqlite.prepare(`INSERT INTO sync_runs (run_id, stream, trigger, started_at, finished_at, status, error) VALUES ('old-run', ?, 'cli', ?, ?, 'failed', ?)`);
    for (const [i, f] of FORBIDDEN.entries()) old.run(`legacy-${i}`, '2020-01-01T00:00:00.000Z', '2020-01-01T00:00:01.000Z', `echoed ${f} back`);
    m.close();

    getMode = 'json';
    const port = await freePort();
    worker = spawnWorker({ ...env({ DASHBOARD_PORT: String(port), SCHEDULE_FREQUENT_MINUTES: '0', WRITE_MAX_ATTEMPTS: '2', LOG_LEVEL: 'debug' }) });
    await worker.waitForLog((l) => l.msg === 'worker ready', 'worker ready');
    const { id: jobId } = await enqueueSyncNow(loadConfig(env(), { requireToken: true }), { streams: ['tags'] });

    const rows = await waitFor('every write to end dead', () => {
      const mm = openMirror(db.path);
      try {
        const got = mm.sqlite.prepare(`SELECT id, status, last_error, api_response FROM outbound_writes WHERE id IN (${ids.join(',')})`).all() as {
          id: number;
          status: string;
          last_error: string | null;
          api_response: string | null;
        }[];
        return got.every((r) => r.status === 'dead') ? got : undefined;
      } finally {
        mm.close();
      }
    }, 40_000);
    for (const r of rows) {
      expect(r.last_error).toContain('HTTP 401');
      expect(r.api_response).toContain('401');
      expect(leaks(`${r.last_error}\n${r.api_response}`), String(r.id)).toEqual([]);
    }
    // A JSON echo stays parseable JSON, with the token replaced.
    const jsonRow = rows[MODES.indexOf('json')]!;
    expect(JSON.parse(jsonRow.api_response!)).toMatchObject({ http_status: 401, body: { error: { echo: '[REDACTED]' } } });

    const failedKey = `${prefix}:sync:${jobId}`;
    await waitFor('the sync job to fail', async () => (await redis.hget(failedKey, 'failedReason')) ?? undefined, 30_000);
    expect(await redis.hget(failedKey, 'failedReason')).toContain('HTTP 401');

    // Every key of this prefix, whatever its type.
    const dump: string[] = [];
    const keys = await redis.keys(`${prefix}:*`);
    expect(keys.length).toBeGreaterThan(3);
    for (const k of keys) {
      const type = await redis.type(k);
      if (type === 'string') dump.push((await redis.get(k)) ?? '');
      else if (type === 'hash') dump.push(JSON.stringify(await redis.hgetall(k)));
      else if (type === 'list') dump.push(JSON.stringify(await redis.lrange(k, 0, -1)));
      else if (type === 'set') dump.push(JSON.stringify(await redis.smembers(k)));
      else if (type === 'zset') dump.push(JSON.stringify(await redis.zrange(k, '0', '-1')));
      else if (type === 'stream') dump.push(JSON.stringify(await redis.xrange(k, '-', '+')));
    }
    const redisText = dump.join('\n');
    expect(redisText).toContain('HTTP 401');
    expect(leaks(redisText)).toEqual([]);

    const base = `http://127.0.0.1:${port}`;
    const page = await (await fetch(`${base}/mirror`)).text();
    const pageJson = await (await fetch(`${base}/mirror.json`)).text();
    expect(page).toContain('echoed [REDACTED] back');
    expect(pageJson).toContain('echoed [REDACTED] back');
    const html = page.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
    expect(leaks(page)).toEqual([]);
    expect(leaks(html)).toEqual([]);
    expect(leaks(pageJson)).toEqual([]);

    worker.child.kill('SIGTERM');
    await worker.exited;
    const logs = worker.lines.map((l) => JSON.stringify(l)).join('\n') + worker.stderr();
    expect(logs).toContain('401');
    expect(leaks(logs)).toEqual([]);
  }, 120_000);
});

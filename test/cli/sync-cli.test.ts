import { readFileSync } from 'node:fs';
import { FindingsStore } from '../../src/sync/findings.js';
import { SqliteStore } from '../../src/db/store/sqlite.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeLearnedRate } from '../../src/sync/rate-limit-finding.js';
import { openMirror } from '../../src/db/connection.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDbPath } from '../helpers/mirror.js';

describe('leeloo-sync sync / status (CLI)', () => {
  let sim: Simulator;
  const db = tempDbPath();
  const TOKEN = 'tok-SECRET-5f1e2d3c4b5a';
  beforeAll(async () => {
    sim = await startSimulator({ seed: 2, people: 40, token: TOKEN });
  });
  afterAll(async () => {
    await sim.close();
    db.cleanup();
  });
  const env = () => ({ LEELOO_API_URL: sim.url, LEELOO_API_TOKEN: TOKEN, DATABASE_URL: db.path, LEELOO_RATE_LIMIT: '5000', LOG_LEVEL: 'info' });

  it('syncs, prints a summary and never prints the token', async () => {
    const r = await runCli(['sync'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/people\s+succeeded\s+40/);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    expect(r.cmdline).toContain('leeloo-sync.js sync');
    expect(r.cmdline).not.toContain(TOKEN);
    const bytes = readFileSync(db.path);
    expect(bytes.includes(Buffer.from(TOKEN))).toBe(false);
  });

  it('many workers waiting on one run signal print no MaxListenersExceededWarning', async () => {
    // 32 workers against a 100/s limit: all of them wait in the limiter on the run's signal.
    const other = tempDbPath();
    try {
      const r = await runCli(['sync'], { ...env(), DATABASE_URL: other.path, SYNC_CONCURRENCY: '32', LEELOO_RATE_LIMIT: '100' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/MaxListenersExceeded|Possible EventTarget memory leak/);
    } finally {
      other.cleanup();
    }
  });

  it('status shows cursors and the last runs', async () => {
    const r = await runCli(['status'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Cursors');
    expect(r.stdout).toMatch(/people\s+\d{4}-\d{2}-\d{2}T/);
    expect(r.stdout).toMatch(/chat_messages\s+succeeded/);
    const j = await runCli(['status', '--json'], env());
    const parsed = JSON.parse(j.stdout) as { cursors: unknown[]; lastRuns: { stream: string; status: string }[] };
    expect(parsed.lastRuns.some((x) => x.stream === 'orders' && x.status === 'succeeded')).toBe(true);
  });

  it('status shows the current and learned rate limit', async () => {
    const fixed = await runCli(['status'], env());
    expect(fixed.stdout).toMatch(/Rate limit: 5000\/s fixed\n  nothing learned yet/);
    const m = openMirror(db.path);
    await storeLearnedRate(await FindingsStore.load(new SqliteStore(m)), { mode: 'auto', rate: 48.5, ceiling: 50, max: 200, learnedAt: '2026-01-02T03:04:05.000Z' }, 'test');
    m.close();
    const auto = await runCli(['status'], { ...env(), LEELOO_RATE_LIMIT: 'auto' });
    expect(auto.stdout).toMatch(/Rate limit: auto \(max 200\/s\)\n  current 48\.5\/s, learned 50\/s \(last 429 at 2026-01-02T03:04:05\.000Z\); stored \d{4}-/);
    const j = JSON.parse((await runCli(['status', '--json'], env())).stdout) as { rateLimit: unknown };
    expect(j.rateLimit).toMatchObject({ rate: 48.5, ceiling: 50, learnedAt: '2026-01-02T03:04:05.000Z' });
  });

  it('a wrong token exits non-zero, says so, and leaves the database intact', async () => {
    const m = openMirror(db.path);
    const before = m.sqlite.prepare('SELECT (SELECT count(*) FROM people) p, (SELECT count(*) FROM chat_messages) c, (SELECT group_concat(cursor) FROM sync_state) s').get();
    m.close();
    const r = await runCli(['sync'], { ...env(), LEELOO_API_TOKEN: 'wrong-token-value' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/401/);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('leeloo-sync:'))).toHaveLength(1);
    expect(r.stderr + r.stdout).not.toContain('wrong-token-value');
    const m2 = openMirror(db.path);
    expect(m2.sqlite.prepare('SELECT (SELECT count(*) FROM people) p, (SELECT count(*) FROM chat_messages) c, (SELECT group_concat(cursor) FROM sync_state) s').get()).toEqual(before);
    m2.close();
  });

  it('a missing token is one line naming LEELOO_API_TOKEN, exit 2, no stack trace', async () => {
    const r = await runCli(['sync'], { DATABASE_URL: db.path });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^leeloo-sync: invalid configuration: .*LEELOO_API_TOKEN/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('lists every bad variable at once', async () => {
    const r = await runCli(['sync'], { LEELOO_API_TOKEN: 'x', SYNC_CONCURRENCY: 'many', LEELOO_PAGE_SIZE: '0', DATABASE_URL: db.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SYNC_CONCURRENCY');
    expect(r.stderr).toContain('LEELOO_PAGE_SIZE');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses unknown streams and bad dates with exit 2', async () => {
    const a = await runCli(['sync', '--streams', 'people,nope'], env());
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/unknown stream nope \(known: people,/);
    const b = await runCli(['sync', '--since', '2024-13-01'], env());
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--since must be a date YYYY-MM-DD');
    const c = await runCli(['sync', '--bogus'], env());
    expect(c.code).toBe(2);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { tempDbPath } from '../helpers/mirror.js';

/** `npx leeloo-sync sim` in its own process; resolves with its URL once it listens. */
function startSimProcess(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'sim', '--port', '0', ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`sim did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.on('error', reject);
  });
}

describe('leeloo-sync doctor against leeloo-sync sim', () => {
  let sim: { child: ChildProcess; url: string };
  const db = tempDbPath();
  beforeAll(async () => {
    sim = await startSimProcess(['--people', '120', '--date-precision', 'day-start', '--never-wrote', '0.1']);
  }, 40_000);
  afterAll(() => {
    sim.child.kill('SIGTERM');
    db.cleanup();
  });
  const env = () => ({ LEELOO_API_URL: sim.url, LEELOO_API_TOKEN: 'sim-token', DATABASE_URL: db.path });

  it('prints its table and exits 0', async () => {
    const r = await runCli(['doctor'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^check +\| result +\| what the sync will do\n/);
    for (const name of ['token', 'endpoints', 'date_filter', 'list_order', 'page_cap', 'chat_path', 'unknown_id', 'reachability']) {
      expect(r.stdout).toMatch(new RegExp(`^ok   ${name} +\\|`, 'm'));
    }
    expect(r.stdout).toMatch(/a `to` date means 00:00 of that date/);
    expect(r.stdout).toMatch(/no last_message window reaches/);
    expect(r.stdout).toMatch(/safe to sync \(date filter: date\); \d+ requests/);
  }, 60_000);

  it('--json prints one object with checks and dateFilter', async () => {
    const r = await runCli(['doctor', '--json'], env());
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; detail: string }[]; dateFilter: string; requests: number; findings: Record<string, unknown> };
    expect(j.dateFilter).toBe('date');
    expect(j.checks.map((c) => c.name)).toEqual(['token', 'endpoints', 'date_filter', 'list_order', 'page_cap', 'chat_path', 'unknown_id', 'reachability']);
    for (const c of j.checks) expect(c).toMatchObject({ ok: true, detail: expect.any(String) });
    expect(j.requests).toBeLessThanOrEqual(100);
    expect(j.findings.date_filter).toMatchObject({ mode: 'date', dateTo: 'day-start' });
    expect(j.findings.reachability).toMatchObject({ unreachable: true });
  }, 60_000);

  it('a wrong token exits 1 naming the auth failure, never the token; bad configuration exits 2', async () => {
    const r = await runCli(['doctor'], { ...env(), LEELOO_API_TOKEN: 'not-the-sim-token-4711' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/authentication failed: the API refused LEELOO_API_TOKEN \(401 UNAUTHORIZED\)/);
    expect(r.stdout + r.stderr).not.toContain('not-the-sim-token-4711');
    const bad = await runCli(['doctor'], { ...env(), LEELOO_API_TOKEN: '', LEELOO_DATE_FORMAT: 'hourly' });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/LEELOO_DATE_FORMAT .*LEELOO_API_TOKEN is required/);
  }, 60_000);
});

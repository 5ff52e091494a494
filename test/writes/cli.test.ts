/**
 * `enqueue` and `outbox`: exit codes, output, one-line errors that name the option, on both
 * backends. Only the database is touched (no Redis, no API). Commands run in-process with process.exit trapped (a child process
 * per command costs a second of tsx start-up each); one run goes through a real child process.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { openStore } from '../../src/db/store/index.js';
import { usageExits } from '../../src/cli/common.js';
import { enqueueCommand } from '../../src/cli/enqueue.js';
import { outboxCommand } from '../../src/cli/outbox.js';
import { outputOf } from '../helpers/cli.js';
import { BACKENDS, useBackendDb } from '../helpers/backends.js';

const ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
const P = '5b3f543bb2737000133d25b0';
const O = '5e2825e081fbca000d8596e4';
const C = '5e42be688d4fff000cafe5cc';
const VIP = '595f5d522a934035decc093d';

describe.each(BACKENDS)('enqueue and outbox commands (%s)', (backend) => {
  const db = useBackendDb(backend);

  function spawnCli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return outputOf(
      spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url, LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  }

  /** The commands as cli-entry.ts (and src/cli/main.ts) wire them, run in this process. */
  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
    const exit = vi.spyOn(process, 'exit').mockImplementation((code?: string | number | null) => {
      throw new Exit(Number(code ?? 0));
    });
    process.env.DATABASE_URL = db.url;
    const program = new Command('leeloo-sync');
    program.configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
    program.addCommand(enqueueCommand());
    program.addCommand(outboxCommand());
    let code = 0;
    try {
      await usageExits(program).parseAsync(['node', 'leeloo-sync', ...args]);
    } catch (e) {
      if (!(e instanceof Exit)) throw e;
      code = e.code;
    } finally {
      out.mockRestore();
      err.mockRestore();
      exit.mockRestore();
    }
    return { code, stdout, stderr };
  }
  const rows = () => db.rows<{ id: number; kind: string; target_id: string; payload: string; status: string }>('SELECT id, kind, target_id, payload, status FROM outbound_writes ORDER BY id');

  beforeAll(async () => {
    // Opening the store migrates the empty database, as the commands' own open would.
    const store = await openStore(db.url);
    try {
      await store.run(sql`INSERT INTO tags (id, name, raw, synced_at) VALUES (${VIP}, 'vip', '{}', '2024-01-01T00:00:00.000Z')`);
    } finally {
      await store.close();
    }
  });

  it('refuses bad input with exit code 2 and the option it came from, storing nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['enqueue', 'add-tag', '--person', 'abc', '--tag', 'vip'], /^leeloo-sync: --person: must be a 24-hex id/],
      [['enqueue', 'add-tag', '--person', P, '--tag', 'gold'], /^leeloo-sync: --tag: unknown tag "gold": not in the mirrored tags table/],
      [['enqueue', 'update-order', '--order', O, '--status', 'DONE', '--price', '100', '--currency', 'USD'], /^leeloo-sync: --status: must be RESOLVED or REJECTED/],
      [['enqueue', 'update-order', '--order', O, '--status', 'RESOLVED', '--payment-date', 'soon'], /^leeloo-sync: --payment-date: must be a date/],
      [['enqueue', 'update-person', '--person', P, '--phone', '0669991876'], /^leeloo-sync: --phone: must be "\+" followed by 5 to 15 digits/],
      [['enqueue', 'update-person', '--person', P], /^leeloo-sync: update-person: needs at least one of --phone, --email, --custom-field/],
      [['enqueue', 'add-comment', '--person', P], /^leeloo-sync: --text: is required/],
      [['enqueue', 'send-template', '--channel', C, '--template', 'x'], /^leeloo-sync: --template: must be a 24-hex id/],
      [['outbox', 'retry', 'abc'], /^leeloo-sync: ID must be a write's number/],
      [['enqueue', 'add-comment', '--person', P, '--text', 'x'.repeat(20 * 1024 * 1024)], /^leeloo-sync: --text: must be at most 10000 characters \(got 20971520\)$/m],
      [['enqueue', 'send-message', '--channel', C, '--text', 'x'.repeat(4097)], /^leeloo-sync: --text: must be at most 4096 characters \(got 4097\)$/m],
      [['enqueue', 'send-template', '--channel', C, '--template', O, ...Array.from({ length: 51 }, (_, i) => ['--var', `v${i}=x`]).flat()], /^leeloo-sync: --var: must list at most 50 variables$/m],
    ];
    const results = [];
    for (const [args] of cases) results.push(await cli(...args));
    results.forEach((r, i) => {
      expect({ args: cases[i]![0], code: r.code }).toEqual({ args: cases[i]![0], code: 2 });
      expect(r.stderr).toMatch(cases[i]![1]);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
    expect(await rows()).toEqual([]);
  });

  it('enqueues each request as a pending row; outbox lists, shows, cancels and retries', async () => {
    // One real process end to end.
    const a = await spawnCli('enqueue', 'add-tag', '--person', P, '--tag', 'vip');
    expect(a).toMatchObject({ code: 0, stdout: expect.stringMatching(/^queued write #1 \(add-tag 5b3f543bb2737000133d25b0\): pending/) });
    const b = await cli('enqueue', 'update-order', '--order', O, '--status', 'RESOLVED', '--price', '100', '--currency', 'usd', '--json');
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout)).toMatchObject({ id: 2, kind: 'update-order', status: 'pending' });
    const c = await cli('enqueue', 'send-template', '--channel', C, '--template', O, '--var', 'name=Ann', '--var', 'code=A=1', '--idempotency-key', 'promo-1');
    expect(c.code).toBe(0);
    const dup = await cli('enqueue', 'send-message', '--channel', C, '--text', 'hi', '--idempotency-key', 'promo-1');
    expect(dup).toMatchObject({ code: 2, stderr: expect.stringMatching(/--idempotency-key: "promo-1" was already used by write #3 \(pending\)/) });

    expect((await rows()).map((r) => [r.kind, r.target_id, JSON.parse(r.payload), r.status])).toEqual([
      ['add-tag', P, { tag_id: VIP }, 'pending'],
      ['update-order', O, { status: 'RESOLVED', price: 100, currency: 'USD' }, 'pending'],
      ['send-template', C, { template_id: O, variables: { name: 'Ann', code: 'A=1' } }, 'pending'],
    ]);

    const cancel = await cli('outbox', 'cancel', '1');
    expect(cancel).toMatchObject({ code: 0, stdout: 'write #1 add-tag 5b3f543bb2737000133d25b0: cancelled\n' });
    const list = await cli('outbox');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^pending 2 · queued 0 · succeeded 0 · failed 0 · dead 0 · ambiguous 0 · cancelled 1\n/);
    expect(list.stdout).toMatch(/\n3 +send-template +5e42be688d4fff000cafe5cc +pending/);
    const onlyCancelled = await cli('outbox', 'list', '--status', 'cancelled', '--json');
    expect(onlyCancelled.stdout.trim().split('\n').map((l) => JSON.parse(l).id)).toEqual([1]);
    const show = await cli('outbox', 'show', '2');
    expect(JSON.parse(show.stdout)).toMatchObject({ id: 2, payload: { status: 'RESOLVED', price: 100, currency: 'USD' } });

    const retryPending = await cli('outbox', 'retry', '2');
    expect(retryPending).toMatchObject({ code: 2, stderr: 'leeloo-sync: write #2 is pending; only failed, dead, ambiguous, cancelled writes can be retried\n' });
    const retry = await cli('outbox', 'retry', '1');
    expect(retry).toMatchObject({ code: 0, stdout: 'write #1 add-tag 5b3f543bb2737000133d25b0: pending\n' });
    // A real process too (one argument may be at most 128 KiB long on Linux).
    const big = await spawnCli('enqueue', 'add-comment', '--person', P, '--text', 'y'.repeat(100_000));
    expect(big).toMatchObject({ code: 2, stderr: 'leeloo-sync: --text: must be at most 10000 characters (got 100000)\n' });
    const usage = await cli('enqueue', 'add-tag', '--persn', P);
    expect(usage).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown option '--persn'/) });
  });
});

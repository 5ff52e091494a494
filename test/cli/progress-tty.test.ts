import { spawn, spawnSync } from 'node:child_process';
import xterm from '@xterm/headless';
import { describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim/index.js';
import { STREAM_NAMES } from '../../src/sync/registry.js';
import { BIN } from '../helpers/cli.js';
import { simulatorFor, tempDbPath } from '../helpers/mirror.js';

/*
 * `leeloo-sync sync` in a pseudo-terminal of 80 columns (util-linux `script` gives the child a
 * pty), its output replayed through a terminal emulator to get the screen a person would see.
 */

const COLS = 80;
const ROWS = 50;
const PEOPLE = 1500;
const hasScript = spawnSync('script', ['--version']).status === 0;

function runInPty(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    // The pty has no window size of its own: stty gives it the one the test pretends to have.
    const child = spawn('script', ['-qfec', `stty cols ${COLS} rows ${ROWS}; exec ${quoted}`, '/dev/null'], {
      env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', TERM: 'xterm-256color', COLUMNS: String(COLS), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, output });
    });
  });
}

/** Replays terminal output; returns every line of the buffer (scrollback included). */
async function screen(output: string): Promise<{ lines: string[]; wrapped: number[] }> {
  const term = new xterm.Terminal({ cols: COLS, rows: ROWS, scrollback: 1000, allowProposedApi: true });
  await new Promise<void>((resolve) => term.write(output, resolve));
  const buf = term.buffer.active;
  const lines: string[] = [];
  const wrapped: number[] = [];
  for (let i = 0; i < buf.length; i++) {
    const line = buf.getLine(i)!;
    if (line.isWrapped) wrapped.push(i);
    lines.push(line.translateToString(true));
  }
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  term.dispose();
  return { lines, wrapped };
}

describe.skipIf(!hasScript)('sync progress on a terminal (pty, 80 columns)', () => {
  let sim: Simulator;
  const db = tempDbPath();
  simulatorFor(db, { seed: 7, people: PEOPLE }, (s) => (sim = s));

  it('redraws one block of one line per stream that never wraps, with totals, and the summary follows it', async () => {
    const r = await runInPty(['sync'], {
      LEELOO_API_URL: sim.url,
      LEELOO_API_TOKEN: sim.token,
      DATABASE_URL: db.path,
      LEELOO_RATE_LIMIT: '5000',
      SYNC_CONCURRENCY: '8',
    });
    expect(r.code, r.output.slice(-2000)).toBe(0);
    // The block was redrawn in place many times, not printed once at the end.
    expect(r.output.split('\x1b[1A').length).toBeGreaterThan(10);

    const { lines, wrapped } = await screen(r.output);
    const text = lines.join('\n');
    expect(wrapped, text).toEqual([]);
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(COLS);
    // Every line the program drew, before the terminal could wrap it, fits too.
    // eslint-disable-next-line no-control-regex
    const drawn = r.output.split(/\r?\n|\r/).map((l) => l.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''));
    for (const l of drawn) expect(l.length, l).toBeLessThanOrEqual(COLS);

    const header = lines.findIndex((l) => /^stream\s+status\s+inserted/.test(l));
    expect(header, text).toBeGreaterThan(0);
    const block = lines.slice(0, header);
    const summary = lines.slice(header + 1);
    const ran = STREAM_NAMES.filter((n) => n !== 'accounts');
    // One block: each stream has exactly one line in it, and the summary table comes after.
    for (const name of ran) {
      expect(block.filter((l) => l.split(/\s+/)[0] === name), `${name} in\n${text}`).toHaveLength(1);
      expect(summary.filter((l) => l.split(/\s+/)[0] === name), `${name} in\n${text}`).toHaveLength(1);
    }
    expect(block.filter((l) => l.trim() !== '')).toHaveLength(ran.length);

    // Counted as records: 1,500 people listed once each, and their details on their own.
    const people = block.find((l) => l.startsWith('people '))!;
    expect(people).toMatch(/^people\s+1,500\/1,500 100%\s+details 1,500\/1,500( 100%)?\s+[\d,]+\/s\s+done \d+:\d\d$/);
    const channels = block.find((l) => l.startsWith('chat_messages '))!;
    expect(channels).toMatch(/^chat_messages\s+[\d,]+\s+channels ([\d,]+)\/\1 100%/);
    expect(block.find((l) => l.startsWith('tags '))).toMatch(/^tags\s+30\/30 100%/);
    expect(summary[0]).toMatch(/^people\s+succeeded\s+1500\s/);
  });
});

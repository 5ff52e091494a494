import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import type { Simulator } from '../../src/sim/index.js';
import { ProgressTracker, type Progress } from '../../src/sync/progress.js';
import { createProgress, renderBlock, type ProgressRecord } from '../../src/sync/progress-view.js';
import { failures, syncWith, simulatorFor, tempDbPath } from '../helpers/mirror.js';

describe('progress figures', () => {
  it('counts done against the totals the API told, with percent, recent rate and ETA', () => {
    let now = 0;
    const t = new ProgressTracker(() => now, 10_000);
    t.start('people');
    t.total('people', 1500); // a window's totalCount
    t.tick('people', 100);
    t.total('people', 100, 'details'); // keys found due
    now = 1000;
    let [f] = t.figures();
    expect(f).toMatchObject({ stream: 'people', state: 'running' });
    expect(f!.parts).toEqual([
      { unit: 'rows', done: 100, total: 1500, percent: 6, rate: 100 },
      { unit: 'details', done: 0, total: 100, percent: 0, rate: 0 },
    ]);
    expect(f!.etaSeconds).toBeNull(); // details have not started: no rate, no honest ETA
    t.tick('people', 400);
    t.tick('people', 50, 'details');
    now = 2000;
    [f] = t.figures();
    expect(f!.parts[0]).toMatchObject({ done: 500, percent: 33, rate: 250 });
    expect(f!.parts[1]).toMatchObject({ done: 50, percent: 50, rate: 25 });
    // rows: 1000 left at 250/s = 4 s; details: 50 left at 25/s = 2 s: the slower part decides.
    expect(f!.etaSeconds).toBeCloseTo(4);
    // A fresh count of what is still due replaces the running total.
    t.remaining('people', 1450, 'details');
    expect(t.figures()[0]!.parts[1]).toMatchObject({ done: 50, total: 1500, percent: 3 });
    t.tick('people', 1000);
    t.tick('people', 1450, 'details');
    now = 12_000;
    t.finish('people', 'succeeded');
    now = 60_000;
    [f] = t.figures();
    expect(f).toMatchObject({ state: 'succeeded', elapsedSeconds: 12, etaSeconds: null });
    expect(f!.parts.map((p) => [p.done, p.total, p.percent])).toEqual([
      [1500, 1500, 100],
      [1500, 1500, 100],
    ]);
    expect(f!.rate).toBe(125); // the whole run's rate once finished
  });

  it('measures the rate over the last window, so the ETA follows the current pace', () => {
    let now = 0;
    const t = new ProgressTracker(() => now, 5000);
    t.total('orders', 10_000);
    for (let s = 1; s <= 20; s++) {
      now = s * 1000;
      t.tick('orders', s <= 10 ? 100 : 10); // fast, then slow
      t.figures();
    }
    const [f] = t.figures();
    expect(f!.rate).toBeCloseTo(10, 0);
    expect(f!.etaSeconds).toBeCloseTo((10_000 - 1100) / f!.rate, 0);
  });

  it('draws lines that fit any width, keeping the name, the count and the ETA longest', () => {
    let now = 0;
    const t = new ProgressTracker(() => now);
    t.start('communication_channels');
    t.total('communication_channels', 123_456);
    t.tick('communication_channels', 45_678);
    t.total('people', 1_234_567);
    t.tick('people', 234_567);
    t.total('people', 234_567, 'details');
    t.tick('people', 200_000, 'details');
    now = 10_000;
    const figures = t.figures();
    for (let width = 30; width <= 140; width++) {
      for (const line of renderBlock(figures, width)) expect(line.length, `${width}: ${line}`).toBeLessThanOrEqual(width);
    }
    const [, people] = renderBlock(figures, 200);
    expect(people).toMatch(/^people {18}234,567\/1,234,567  18%  details 200,000\/234,567  85%  [\d,]+\/s  ETA \d+:\d\d$/);
    const narrow = renderBlock(figures, 60)[1]!;
    expect(narrow).toMatch(/^people\s+234,567\/1,234,567  18%.*ETA \d+:\d\d$/);
  });
});

describe('progress totals from the engine', () => {
  let sim: Simulator;
  const db = tempDbPath();
  simulatorFor(db, { seed: 6, people: 300 }, (s) => (sim = s));

  it('knows the whole total from the start even when a deep window is read in split parts', async () => {
    const tracker = new ProgressTracker();
    const seen: { done: number; total: number | null }[] = [];
    const progress: Progress = {
      start: (st) => tracker.start(st),
      total: (st, n, u) => tracker.total(st, n, u),
      remaining: (st, n, u) => tracker.remaining(st, n, u),
      expect: (st, n, u) => tracker.expect(st, n, u),
      finish: (st, status) => tracker.finish(st, status),
      tick(st, n, u) {
        tracker.tick(st, n, u);
        const rows = tracker.figures().find((f) => f.stream === 'people')?.parts.find((p) => p.unit === 'rows');
        if (st === 'people' && (u ?? 'rows') === 'rows' && rows) seen.push({ done: rows.done, total: rows.total });
      },
      stop() {},
    };
    // 300 people, at most 40 to a window: the first window is refused and split many times.
    const { result, mirror } = await syncWith(sim, db.path, { streams: ['people'], progress, env: { SYNC_WINDOW_MAX_ROWS: '40' } });
    mirror.close();
    expect(failures(result)).toEqual([]);
    expect(result.streams[0]!.counters.windows).toBeGreaterThan(5);
    expect(seen.length).toBeGreaterThan(5);
    // From the first page on, the total is the whole list, not the current window's share.
    for (const x of seen) expect(x.total).toBe(300);
    expect(seen.at(-1)!.done).toBe(300);
    const [people] = tracker.figures();
    expect(people!.parts.map((p) => [p.unit, p.done, p.total, p.percent])).toEqual([
      ['rows', 300, 300, 100],
      ['details', 300, 300, 100],
    ]);
  });
});

describe('progress off a TTY', () => {
  let sim: Simulator;
  const db = tempDbPath();
  simulatorFor(db, { seed: 5, people: 300, knobs: { latencyMs: 5 } }, (s) => (sim = s));

  it('logs the same figures at a steady pace, and each stream once more when it ends', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => lines.push(l) } });
    const intervalMs = 100;
    const { result, mirror } = await syncWith(sim, db.path, { progress: createProgress({ tty: false, logger, intervalMs }) });
    mirror.close();
    expect(failures(result)).toEqual([]);
    const recs = lines.map((l) => JSON.parse(l) as ProgressRecord & { msg: string; time: string });
    expect(recs.length).toBeGreaterThan(0);
    expect(recs.every((r) => r.msg === 'sync progress')).toBe(true);
    expect(lines.join('')).not.toContain('\x1b');

    const people = recs.filter((r) => r.stream === 'people');
    const running = people.filter((r) => r.state === 'running');
    expect(running.length).toBeGreaterThanOrEqual(2);
    // Paced by the clock, not by the work: consecutive lines of a stream come an interval apart.
    const times = running.map((r) => Date.parse(r.time));
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(intervalMs - 20);
    for (const r of running) {
      expect(r.done).toBeLessThanOrEqual(r.total ?? Infinity);
      expect(r.rowsPerSecond).toBeGreaterThanOrEqual(0);
    }
    const last = people.at(-1)!;
    expect(last).toMatchObject({ state: 'succeeded', done: 300, total: 300, percent: 100, etaSeconds: null });
    expect(last.details).toEqual({ done: 300, total: 300, percent: 100 });
    // One final line per stream that ran.
    const finals = recs.filter((r) => r.state !== 'running').map((r) => r.stream);
    expect(new Set(finals).size).toBe(finals.length);
    expect(finals.sort()).toEqual(result.streams.map((s) => s.stream).sort());
    const chat = recs.filter((r) => r.stream === 'chat_messages').at(-1)!;
    expect(chat.channels?.percent).toBe(100);
    expect(chat.channels?.done).toBe(chat.channels?.total);
  });
});

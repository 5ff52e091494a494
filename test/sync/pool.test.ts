import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../src/sync/pool.js';

const tick = () => new Promise((r) => setImmediate(r));

function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

describe('Semaphore', () => {
  it('runs a call at once while a slot is free, so a request starts in the same turn', () => {
    const s = new Semaphore(2);
    let started = 0;
    void s.run(async () => void started++);
    void s.run(async () => void started++);
    expect(started).toBe(2);
  });

  it('holds at most `size` calls, and starts the waiting ones in order as slots free', async () => {
    const s = new Semaphore(2);
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    let active = 0;
    let most = 0;
    const runs = gates.map((g, i) =>
      s.run(async () => {
        started.push(i);
        most = Math.max(most, ++active);
        await g.p;
        active--;
        return i;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    gates[1]!.open();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.open();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const g of gates) g.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });

  it('gives the slot back when the call throws, synchronously or by rejecting', async () => {
    const s = new Semaphore(1);
    await expect(s.run(() => { throw new Error('sync'); })).rejects.toThrow('sync');
    await expect(s.run(async () => { throw new Error('async'); })).rejects.toThrow('async');
    let ran = false;
    await s.run(async () => void (ran = true));
    expect(ran).toBe(true);
  });

  it('reports the mean number in flight', async () => {
    const s = new Semaphore(4);
    const g = gate();
    const runs = [s.run(() => g.p), s.run(() => g.p)];
    await new Promise((r) => setTimeout(r, 50));
    g.open();
    await Promise.all(runs);
    await new Promise((r) => setTimeout(r, 50));
    const mean = s.meanInFlight();
    expect(mean).toBeGreaterThan(0.6);
    expect(mean).toBeLessThan(1.4);
  });
});

import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { DeadlineExceeded, InFlight, type Abortable } from '../../src/leeloo/in-flight.js';

class Probe implements Abortable {
  reason: Error | null = null;
  at = 0;
  abort(err: Error): void {
    this.reason = err;
    this.at = performance.now();
  }
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('InFlight: one timer and one listener per signal for all requests', () => {
  it('ends each request at its own deadline, the later one not before its time', async () => {
    const f = new InFlight(80);
    const a = new Probe();
    const b = new Probe();
    const t0 = performance.now();
    const wa = f.add(a, undefined);
    await wait(40);
    const wb = f.add(b, undefined);
    await wait(60);
    expect(a.reason).toBeInstanceOf(DeadlineExceeded);
    expect(wa.timedOut).toBe(true);
    expect(b.reason).toBeNull();
    await wait(50);
    expect(b.reason).toBeInstanceOf(DeadlineExceeded);
    expect(wb.timedOut).toBe(true);
    expect(b.at - t0).toBeGreaterThanOrEqual(115);
    f.done(wa);
    f.done(wb);
    expect(f.size).toBe(0);
  });

  it('never ends a request that is done, and leaves no timer once nothing is in flight', async () => {
    const before = timers();
    const f = new InFlight(30);
    const probes = Array.from({ length: 5 }, () => new Probe());
    const watched = probes.map((p) => f.add(p, undefined));
    expect(timers()).toBe(before + 1);
    for (const w of watched) f.done(w);
    expect(timers()).toBe(before);
    await wait(60);
    expect(probes.every((p) => p.reason === null)).toBe(true);
    expect(watched.some((w) => w.timedOut)).toBe(false);
  });

  it('a request that started after an earlier one finished keeps its full time', async () => {
    const f = new InFlight(60);
    const first = f.add(new Probe(), undefined);
    await wait(40);
    const second = new Probe();
    const ws = f.add(second, undefined);
    f.done(first);
    await wait(35);
    expect(second.reason).toBeNull();
    await wait(45);
    expect(second.reason).toBeInstanceOf(DeadlineExceeded);
    f.done(ws);
  });

  it("a signal's abort ends its requests in flight with its reason, not the others' or the finished ones", () => {
    const f = new InFlight(10_000);
    const ac = new AbortController();
    const other = new AbortController();
    const mine = [new Probe(), new Probe()];
    const finished = new Probe();
    const theirs = new Probe();
    const wm = mine.map((p) => f.add(p, ac.signal));
    const wf = f.add(finished, ac.signal);
    const wt = f.add(theirs, other.signal);
    f.done(wf);
    const reason = new Error('stopping');
    ac.abort(reason);
    expect(mine.map((p) => p.reason)).toEqual([reason, reason]);
    expect(finished.reason).toBeNull();
    expect(theirs.reason).toBeNull();
    for (const w of [...wm, wt]) f.done(w);
    expect(f.size).toBe(0);
  });

  it('adds one abort listener to a signal however many requests carry it', () => {
    const f = new InFlight(10_000);
    const ac = new AbortController();
    for (let i = 0; i < 200; i++) f.done(f.add(new Probe(), ac.signal));
    const held = [f.add(new Probe(), ac.signal), f.add(new Probe(), ac.signal)];
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    for (const w of held) f.done(w);
  });
});

describe('InFlight leaves no listener behind', () => {
  it('lets go of idle signals past the last few, keeps those in flight, and close() removes the rest', () => {
    const f = new InFlight(10_000);
    const busy = new AbortController();
    const held = f.add(new Probe(), busy.signal);
    const signals = Array.from({ length: 40 }, () => new AbortController().signal);
    for (const s of signals) f.done(f.add(new Probe(), s));
    const listening = signals.filter((s) => getEventListeners(s, 'abort').length > 0);
    expect(listening.length).toBeLessThanOrEqual(16);
    expect(getEventListeners(signals[0]!, 'abort')).toHaveLength(0);
    expect(getEventListeners(signals.at(-1)!, 'abort')).toHaveLength(1);
    // In flight: never let go, so its abort still ends the request.
    expect(getEventListeners(busy.signal, 'abort')).toHaveLength(1);
    f.done(held);
    f.close();
    expect([busy.signal, ...signals].every((s) => getEventListeners(s, 'abort').length === 0)).toBe(true);
  });
});

describe('InFlight with many signals in flight at once', () => {
  it('still ends a request whose signal arrives when more than the kept number are busy', () => {
    const f = new InFlight(10_000);
    const busy = Array.from({ length: 20 }, () => new AbortController());
    const held = busy.map((ac) => f.add(new Probe(), ac.signal));
    const last = new AbortController();
    const probe = new Probe();
    const w = f.add(probe, last.signal);
    last.abort(new Error('stop'));
    expect(probe.reason?.message).toBe('stop');
    for (const x of [...held, w]) f.done(x);
    f.close();
  });
});

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { capHeapGrowth } from '../../src/sync/heap.js';

const heapModule = fileURLToPath(new URL('../../src/sync/heap.ts', import.meta.url));

// Keeps ~26 MB live (plus a ring of ~20 MB) and churns medium-lived garbage (promoted to the old generation, as a sync's
// in-flight pages are), printing the peak heap used. The large heap limit
// gives V8 its widest growth factor, whatever the host's memory.
const script = (cap: boolean) => `
const { capHeapGrowth } = await import(${JSON.stringify(heapModule)});
if (${cap}) capHeapGrowth([], '');
const live = Array.from({ length: 300000 }, (_, i) => ({ i, s: 'x' + i }));
globalThis.gc();
const base = process.memoryUsage().heapUsed;
let peak = 0;
const ring = [];
for (let n = 0; n < 6000; n++) {
  ring.push(Array.from({ length: 2000 }, (_, i) => ({ n, i, s: 'y' + i })));
  if (ring.length > 150) ring.shift();
  peak = Math.max(peak, process.memoryUsage().heapUsed);
}
console.log(JSON.stringify({ peakMb: peak / 1048576, baseMb: base / 1048576, live: live.length }));
`;

function peakMb(cap: boolean): number {
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx', '--input-type=module', '-e', script(cap)], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout.trim()) as { peakMb: number }).peakMb;
}

describe('capHeapGrowth', () => {
  it('keeps the old generation near the live heap under churn, where V8 alone lets it grow', () => {
    const uncapped = peakMb(false);
    const capped = peakMb(true);
    // Measured here: about 240 MB against 105 MB.
    expect(capped).toBeLessThan(uncapped * 0.7);
  }, 60_000);

  it('leaves a heap the operator tuned alone', () => {
    expect(capHeapGrowth(['--max-old-space-size=2048'], '')).toBe(false);
    expect(capHeapGrowth([], '--heap-growing-percent=80')).toBe(false);
  });
});

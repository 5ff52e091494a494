import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past the live heap before its next full collection,
 * as a percentage. With a large heap limit (4 GB on a host with 16 GB or more) V8 allows up to
 * 4× the live size, and a sync that keeps about 30 MB live but allocates pages briskly reaches
 * that only in longer runs, so peak RSS grew with the company (docs/benchmarks.md, "Flat memory").
 * 1.5× keeps it flat at no measured CPU cost. The flag is read at every collection, so setting it
 * after start takes effect.
 */
export const HEAP_GROWING_PERCENT = 50;

const TUNED = /--(heap-growing-percent|max-old-space-size|optimize-for-size)\b/;

let applied = false;

/** Caps V8's heap growth once per process, unless the operator tuned the heap themselves. */
export function capHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  if (applied) return true;
  if (execArgv.some((a) => TUNED.test(a)) || TUNED.test(nodeOptions)) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  applied = true;
  return true;
}

import { generateWorld } from './src/sim/generate.ts';
const g = (globalThis as any).gc;
g(); const before = process.memoryUsage().heapUsed;
const t = Date.now();
const w = generateWorld(42, 100000, Date.now());
const ms = Date.now() - t;
g(); const after = process.memoryUsage().heapUsed;
console.log('ms', ms, 'MB', ((after - before) / 1e6).toFixed(1), w.people.length);
const v8 = await import('node:v8');
if (process.argv[2]) { v8.writeHeapSnapshot('/tmp/h.heapsnapshot'); }

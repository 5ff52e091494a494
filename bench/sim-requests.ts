/**
 * The simulator's own work per request (route match, handler, JSON.stringify; not node:http) for
 * the request mix of a full sync, at a company size: does it grow with the company? In process,
 * over the source (tsx). Not part of `npm run bench`.
 * Usage: npx tsx bench/sim-requests.ts [people=10000] [requests=20000]
 */
import { generateWorld } from '../src/sim/generate.js';
import { DEFAULT_KNOBS } from '../src/sim/knobs.js';
import { rngFor } from '../src/sim/random.js';
import { matchRoute } from '../src/sim/routes/index.js';

const people = Number(process.argv[2] ?? 10_000);
const n = Number(process.argv[3] ?? 20_000);
const t0 = performance.now();
const w = generateWorld(42, people, Date.now());
const genMs = performance.now() - t0;
const knobs = { ...DEFAULT_KNOBS, faultKinds: [...DEFAULT_KNOBS.faultKinds] };
const rng = rngFor(1, 99);
const WIDE = 'filter[last_message][from]=2000-01-01&filter[last_message][to]=2100-01-01';
// About a full sync's mix: a detail per person, a chat page per channel, list pages of 100.
function target(i: number): string {
  const k = i % 10;
  if (k < 4) return `/api/v2/people/${w.people[(i * 7919) % w.people.length]!.id}?include=contactedUsers,orders`;
  if (k < 9) return `/api/v2/communication-channels/${w.channels[(i * 104729) % w.channels.length]!.id}/chat-messages?limit=100&offset=0`;
  return i % 20 === 9 ? `/api/v2/people?${WIDE}&limit=100&offset=${((i * 31) % Math.ceil(people / 100)) * 100}` : `/api/v2/communication-channels?limit=100&offset=${((i * 37) % Math.ceil(w.channels.length / 100)) * 100}`;
}
function once(i: number): number {
  const t = target(i);
  const q = t.indexOf('?');
  const m = matchRoute('GET', t.slice(0, q))!;
  const out = m.route.handle({ w, knobs, query: new URLSearchParams(t.slice(q + 1)), params: m.params, body: {}, rng });
  return JSON.stringify({ ...(out as object) }).length;
}
for (let i = 0; i < 2000; i++) once(i); // warm up
const heap0 = process.memoryUsage().heapUsed;
const c0 = process.cpuUsage();
let bytes = 0;
for (let i = 0; i < n; i++) bytes += once(i + 2000);
const c = process.cpuUsage(c0);
const cpuMs = (c.user + c.system) / 1000;
console.log(`${people} people (generated in ${Math.round(genMs)} ms, heap ${Math.round(heap0 / 1e6)} MB): ${n} requests, ${(cpuMs / n * 1000).toFixed(1)} µs CPU/request, ${Math.round(bytes / n)} bytes/answer`);

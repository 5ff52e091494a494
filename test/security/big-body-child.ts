/**
 * Test-only: one listTags() against URL with a body cap of CAP bytes, in a fresh process so its
 * peak memory is its own. Prints {message, kind, permanent, ms, rssGrowthMb, heapGrowthMb}.
 * node --import tsx test/security/big-body-child.ts URL CAP
 */
import { ApiError } from '../../src/errors.js';
import { LeelooClient } from '../../src/leeloo/client.js';

const [url, cap] = process.argv.slice(2) as [string, string];
const client = new LeelooClient({ baseUrl: url, token: 'tok-big-body-1234', rateLimit: 0, retryBaseMs: 5, retryMaxMs: 20, timeoutMs: 60_000, maxResponseBytes: Number(cap) });
const mb = (n: number) => Math.round(n / 1024 / 1024);
globalThis.gc?.();
const maxRss0 = process.resourceUsage().maxRSS * 1024; // the peak so far, in bytes
const rss0 = process.memoryUsage().rss;
const heap0 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
let rssPeak = rss0;
let heapPeak = heap0;
const sample = () => {
  const m = process.memoryUsage();
  rssPeak = Math.max(rssPeak, m.rss);
  heapPeak = Math.max(heapPeak, m.heapUsed + m.arrayBuffers);
};
const sampler = setInterval(sample, 5);
const t0 = performance.now();
let out: Record<string, unknown>;
try {
  await client.listTags();
  out = { message: 'no error' };
} catch (err) {
  out = { message: err instanceof Error ? err.message : String(err), kind: err instanceof ApiError ? err.kind : undefined, permanent: err instanceof ApiError ? err.permanent : undefined };
}
clearInterval(sampler);
sample();
out.ms = Math.round(performance.now() - t0);
out.rssGrowthMb = mb(Math.max(rssPeak - rss0, process.resourceUsage().maxRSS * 1024 - maxRss0));
out.heapGrowthMb = mb(heapPeak - heap0);
await client.close();
process.stdout.write(`${JSON.stringify(out)}\n`);

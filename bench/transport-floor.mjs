/**
 * The transport floor of a sync: the CPU a minimal HTTP client spends on the very requests the
 * sync sent (the targets the simulator recorded, `POST /__sim/record`), with nothing else: a
 * plain undici Pool with keep-alive, SYNC_CONCURRENCY requests in flight, the sync's three
 * headers, each body read to a string and dropped — no validation, no JSON.parse, no DB.
 *
 * Its own process, like the sync child (bench/sync-child.mjs), so that neither the bench
 * process's heap nor its other work counts: process.cpuUsage() over the request loop ÷ requests.
 * Bodies are taken with the dispatcher's handler interface, as src/leeloo/http.ts does, because
 * undici's request() wraps every answer in a Readable stream and costs more than the sync's own
 * transport: the floor must not be dearer than what it is a floor of.
 *
 * Environment: LEELOO_API_URL, LEELOO_API_TOKEN, SYNC_CONCURRENCY, TRANSPORT_RECORDING (the
 * recording file). Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

const url = process.env.LEELOO_API_URL;
const token = process.env.LEELOO_API_TOKEN;
const concurrency = Number(process.env.SYNC_CONCURRENCY ?? 8);
const recording = process.env.TRANSPORT_RECORDING;
if (!url || !token || !recording || !(concurrency >= 1)) throw new Error('needs LEELOO_API_URL, LEELOO_API_TOKEN, SYNC_CONCURRENCY and TRANSPORT_RECORDING');

// `<route key>\t<target>\t<body>` a line (bench/floor.ts readRecording); the body's length is
// kept to check that the replay got the same answers.
const requests = [];
for (const line of readFileSync(recording, 'utf8').split('\n')) {
  if (line.length === 0) continue;
  const a = line.indexOf('\t');
  const b = line.indexOf('\t', a + 1);
  requests.push({ method: line.slice(0, line.indexOf(' ')), path: line.slice(a + 1, b), length: line.length - b - 1 });
}

const origin = new URL(url).origin;
const pool = new Pool(origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 10_000 });
// The sync's headers (src/leeloo/http.ts), one object for every request.
const headers = { 'x-leeloo-authtoken': token, accept: 'application/json', 'user-agent': 'leeloo-sync' };

/** One exchange: the status and the body as a string. */
function get(method, path) {
  return new Promise((resolve, reject) => {
    let status = 0;
    const chunks = [];
    let bytes = 0;
    pool.dispatch(
      { origin, path, method, headers },
      {
        onConnect() {},
        onHeaders(code) {
          status = code;
          return true;
        },
        onData(chunk) {
          chunks.push(chunk);
          bytes += chunk.length;
          return true;
        },
        onComplete() {
          resolve({ status, text: chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, bytes).toString('utf8') });
        },
        onError: reject,
      },
    );
  });
}

const lengths = new Array(requests.length);
const statuses = new Array(requests.length);
let next = 0;
async function worker() {
  while (next < requests.length) {
    const i = next++;
    const r = await get(requests[i].method, requests[i].path);
    statuses[i] = r.status;
    lengths[i] = r.text.length;
  }
}

const started = performance.now();
const before = process.cpuUsage();
await Promise.all(Array.from({ length: concurrency }, worker));
const cpu = process.cpuUsage(before);
const ms = performance.now() - started;
await pool.close();

let notOk = 0;
let otherLength = 0;
for (let i = 0; i < requests.length; i++) {
  if (statuses[i] !== 200) notOk++;
  else if (lengths[i] !== requests[i].length) otherLength++;
}
const cpuMs = (cpu.user + cpu.system) / 1000;
// The whole process too (start-up, undici's import, reading the recording), as the sync child
// counts its own: the floor itself is the loop's.
const whole = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({ requests: requests.length, cpuMs, userMs: cpu.user / 1000, systemMs: cpu.system / 1000, processCpuMs: (whole.user + whole.system) / 1000, ms, msPerRequest: requests.length > 0 ? cpuMs / requests.length : 0, notOk, otherLength })}\n`,
);

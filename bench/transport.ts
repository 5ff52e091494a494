/**
 * Runs bench/transport-floor.mjs (the transport floor: the recorded requests replayed by a
 * minimal undici client in its own process) and reads its one JSON line.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./transport-floor.mjs', import.meta.url));

export interface TransportFloor {
  requests: number;
  cpuMs: number;
  userMs: number;
  systemMs: number;
  /** The child's CPU over its whole life, start-up and reading the recording included. */
  processCpuMs: number;
  /** Wall time of the replay. */
  ms: number;
  /** cpuMs ÷ requests: the transport floor's CPU per request. */
  msPerRequest: number;
  /** Answers that were not 200, and 200s whose body differed in length from the recorded one: both 0 for a faithful replay. */
  notOk: number;
  otherLength: number;
}

export function measureTransportFloor(opts: { url: string; token: string; recording: string; concurrency: number }): Promise<TransportFloor> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD], {
      // The token goes in the environment, never in argv (process titles).
      env: {
        PATH: process.env.PATH ?? '',
        LEELOO_API_URL: opts.url,
        LEELOO_API_TOKEN: opts.token,
        SYNC_CONCURRENCY: String(opts.concurrency),
        TRANSPORT_RECORDING: opts.recording,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      try {
        const r = JSON.parse(out.trim().split('\n').at(-1) ?? '') as TransportFloor;
        if (r.notOk > 0 || r.otherLength > 0) reject(new Error(`transport floor replay differed: ${r.notOk} answers not 200, ${r.otherLength} of another length`));
        else resolve(r);
      } catch {
        reject(new Error(`transport floor exited with ${code}: ${out}`));
      }
    });
  });
}

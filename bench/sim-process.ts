import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/leeloo-sync.js', import.meta.url));

export interface SimProcess {
  url: string;
  token: string;
  counts(): Promise<Record<string, number>>;
  resetCounts(): Promise<void>;
  activity(a: Record<string, number>): Promise<{ messagedChannelIds: string[]; newPersonIds: string[]; changedOrderIds: string[]; newOrderIds: string[] }>;
  /** Every `every`-th 200 answer to `file` (one `<route key>\t<target>\t<body>` a line) until stopRecording. */
  record(file: string, every: number): Promise<void>;
  /** Ends the recording; how many answers it wrote. */
  stopRecording(): Promise<number>;
  /** Changes simulator knobs (`POST /__sim/knobs`), e.g. `{ latencyMs: 0 }`. */
  setKnobs(k: Record<string, number>): Promise<void>;
  /** Connections the simulator accepted since it started. */
  connections(): Promise<number>;
  /** CPU (user + system) the simulator process has used so far, ms; from /proc (Linux only). */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** utime + stime of a process from /proc/<pid>/stat, in ms (fields 14 and 15, after the `(comm)`). */
function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): utime is field 14, stime field 15, in clock ticks (100 a second on Linux).
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

/**
 * The simulator in its own process (`leeloo-sync sim`), driven through its /__sim/ control routes.
 * `opts.nodeArgs` go to node before the script (e.g. `--cpu-prof`); `opts.bin` runs another
 * tree's CLI (bench/sim-ab.ts compares two builds of the simulator).
 */
export async function startSimProcess(args: string[], opts: { nodeArgs?: string[]; bin?: string } = {}): Promise<SimProcess> {
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.bin ?? BIN, 'sim', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`simulator did not start: ${out}`)), 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/[\d.:]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`simulator exited with ${code}: ${out}`)));
  });
  const ctl = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}/__sim/${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`simulator control ${path}: HTTP ${res.status}`);
    return res.json() as Promise<unknown>;
  };
  return {
    url,
    token: 'sim-token',
    counts: async () => {
      const j = (await ctl('GET', 'counts')) as Record<string, unknown>;
      return ((j.counts ?? j) as Record<string, number>);
    },
    resetCounts: async () => {
      await ctl('POST', 'reset-counts');
    },
    record: async (file, every) => {
      await ctl('POST', 'record', { file, every });
    },
    stopRecording: async () => ((await ctl('POST', 'record', {})) as { written: number }).written,
    setKnobs: async (k) => {
      await ctl('POST', 'knobs', k);
    },
    cpuMs: () => procCpuMs(child.pid!),
    connections: async () => ((await ctl('GET', 'health')) as { connections: number }).connections,
    activity: async (a) => (await ctl('POST', 'activity', a)) as never,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

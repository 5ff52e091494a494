import type { AddressInfo } from 'node:net';
import { ConfigError } from '../errors.js';
import { generateWorld } from './generate.js';
import { DEFAULT_KNOBS, checkKnobs } from './knobs.js';
import { SimServer } from './server.js';
import { createStore } from './store.js';
import { SIM_DEFAULTS, type SimOptions, type Simulator } from './types.js';

export type {
  ActivityReport,
  ActivityRequest,
  DeleteReport,
  DeleteRequest,
  FaultKind,
  NulStringsReport,
  NulStringsRequest,
  SilentEditKind,
  SilentEditReport,
  SilentEditRequest,
  SimCounts,
  SimKnobs,
  SimOptions,
  SimStore,
  Simulator,
  WriteLogEntry,
} from './types.js';
export { FAULT_KINDS } from './types.js';
export { DEFAULT_KNOBS } from './knobs.js';
export type * from './model.js';

/**
 * Starts a local HTTP server that behaves like the documented Leeloo API (v2 and the v1
 * accounts endpoints) over a seeded, deterministic company. Same seed, people and `now` give
 * the same company; `now` defaults to the current time.
 */
export async function startSimulator(opts: SimOptions = {}): Promise<Simulator> {
  const seed = opts.seed ?? SIM_DEFAULTS.seed;
  const people = opts.people ?? SIM_DEFAULTS.people;
  const token = opts.token ?? SIM_DEFAULTS.token;
  const host = opts.host ?? SIM_DEFAULTS.host;
  const port = opts.port ?? SIM_DEFAULTS.port;
  const now = opts.now ? opts.now.getTime() : Date.now();
  if (!Number.isSafeInteger(seed)) throw new ConfigError(`seed must be a whole number (got ${seed})`);
  if (!Number.isSafeInteger(people) || people < 0 || people > 10_000_000) throw new ConfigError(`people must be a whole number from 0 to 10000000 (got ${people})`);
  if (token === '') throw new ConfigError('token must not be empty');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`port must be from 0 to 65535 (got ${port})`);
  if (Number.isNaN(now)) throw new ConfigError('now must be a valid date');

  const knobs = { ...DEFAULT_KNOBS, faultKinds: [...DEFAULT_KNOBS.faultKinds], ...checkKnobs(opts.knobs ?? {}) };
  const world = generateWorld(seed, people, now);
  world.neverWrote = knobs.neverWrote;
  const store = createStore(world);
  const server = new SimServer(world, knobs, token, store);
  await new Promise<void>((resolve, reject) => {
    server.http.once('error', reject);
    server.http.listen(port, host, () => {
      server.http.off('error', reject);
      resolve();
    });
  });
  const addr = server.http.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  let closed: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${addr.port}`,
    token,
    knobs,
    setKnobs: (k) => {
      Object.assign(knobs, checkKnobs(k));
      world.neverWrote = knobs.neverWrote;
    },
    store,
    activity: (a) => server.activity(a),
    silentEdits: (r) => server.silentEdits(r),
    deletePeople: (r) => server.deletePeople(r),
    restorePeople: (ids) => server.restorePeople(ids),
    nulStrings: (r) => server.nulStrings(r),
    requestCounts: () => server.requestCounts(),
    rateLimitedCount: () => server.rateLimitedCount(),
    resetCounts: () => server.resetCounts(),
    writeLog: () => server.writeLog(),
    close: () => (closed ??= server.close()),
  };
}

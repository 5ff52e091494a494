import { afterAll, afterEach, beforeAll } from 'vitest';
import { startSimulator, type Simulator, type SimOptions } from '../../src/sim/index.js';
import { tempDbPath } from './mirror.js';

export interface SimFixture {
  /** Set before the first test of the block runs. */
  readonly sim: Simulator;
}

/** A simulator for the tests of the calling describe block: started before them, closed after them. */
export function useSimulator(opts: SimOptions): SimFixture {
  const fx = {} as { sim: Simulator };
  beforeAll(async () => {
    fx.sim = await startSimulator(opts);
  });
  afterAll(async () => {
    await fx.sim?.close();
  });
  return fx;
}

/** The same, with a fresh database file for the block, removed after its tests. */
export function useSimulatorAndDb(opts: SimOptions): SimFixture & { db: ReturnType<typeof tempDbPath> } {
  const db = tempDbPath();
  const fx = { db } as { sim: Simulator; db: ReturnType<typeof tempDbPath> };
  beforeAll(async () => {
    fx.sim = await startSimulator(opts);
  });
  afterAll(async () => {
    await fx.sim?.close();
    db.cleanup();
  });
  return fx;
}

/**
 * For a block whose tests each start their own simulator (and database file): whatever a test
 * started is closed and removed after it.
 */
export function closedAfterEach(): { simulator(opts: SimOptions): Promise<Simulator>; db(): ReturnType<typeof tempDbPath> } {
  const sims: Simulator[] = [];
  const dbs: ReturnType<typeof tempDbPath>[] = [];
  afterEach(async () => {
    for (const sim of sims.splice(0)) await sim.close();
    for (const db of dbs.splice(0)) db.cleanup();
  });
  return {
    async simulator(opts) {
      const sim = await startSimulator(opts);
      sims.push(sim);
      return sim;
    },
    db() {
      const db = tempDbPath();
      dbs.push(db);
      return db;
    },
  };
}

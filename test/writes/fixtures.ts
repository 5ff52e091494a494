import { expect } from 'vitest';
import type { Store } from '../../src/db/store/types.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import type { SyncOptions } from '../../src/sync/engine.js';
import { failures, syncStore } from '../helpers/mirror.js';

type Obj = Record<string, unknown>;

/** Entities of a simulated company to aim writes at, read from the simulator's store. */
export function simFixtures(sim: Simulator) {
  const s = sim.store;
  const people = [...s.peopleList()] as { id: string; tags: string[]; accounts: { account_id: string }[] }[];
  const tags = s.tags() as { id: string; name: string }[];
  const orders = [...s.ordersList()].map((o) => s.orderDetail(String((o as Obj).id)) as Obj);
  const tunnels = s.tunnelsList() as { id: string }[];
  const leadgentools = tunnels.flatMap((t) => ((s.tunnelDetail(t.id) as { linked: { leadgentools: { id: string }[] } }).linked.leadgentools ?? []).map((l) => ({ ...l, tunnelId: t.id })));
  const templates = (s.templateCategories() as { id: string }[]).flatMap((c) => (s.templates(c.id) ?? []) as { id: string }[]);
  const channels = [...s.channelsList()] as { id: string; person_id: string }[];
  const used = new Set<string>();
  return {
    people,
    tags,
    channels,
    leadgentools,
    templates,
    connections: s.connections() as { id: string; type: string }[],
    manualOrders: orders.filter((o) => o.paymentMethod === 'MANUAL') as { id: string; status: string }[],
    otherOrders: orders.filter((o) => o.paymentMethod !== 'MANUAL') as { id: string }[],
    offers: s.offers() as { id: string }[],
    paymentCredits: s.paymentCredits() as { id: string }[],
    tagsOf: (personId: string) => (s.personDetail(personId) as { data: { tags: string[] } }).data.tags,
    /**
     * (person, tag) pairs where the person lacks the tag now and no earlier call handed out: each
     * add-tag is a real change, and the only write of that pair in the write log.
     */
    missingTagPairs(n: number): { person: string; tag: { id: string; name: string } }[] {
      const out: { person: string; tag: { id: string; name: string } }[] = [];
      const current = [...s.peopleList()] as { id: string; tags: string[] }[];
      for (const tag of tags) {
        for (const p of current) {
          const key = `${p.id} ${tag.id}`;
          if (p.tags.includes(tag.name) || used.has(key)) continue;
          used.add(key);
          out.push({ person: p.id, tag });
          if (out.length >= n) return out;
        }
      }
      if (out.length < n) throw new Error(`only ${out.length} untagged pairs left`);
      return out;
    },
  };
}

export function requests(sim: Simulator, key: string): number {
  return sim.requestCounts()[key] ?? 0;
}

export type Fixtures = ReturnType<typeof simFixtures>;

/**
 * A simulated company, a mirror at `databaseUrl` (a SQLite path or a postgres:// URL) synced from
 * it (`streams`, or all of them), and the entities to aim writes at. `store` (what the outbox
 * speaks to) stays open: the tests read and change the mirror through it with SQL, as a SQL user would.
 */
export async function syncedCompany(
  databaseUrl: string,
  sim: Parameters<typeof startSimulator>[0],
  streams?: SyncOptions['streams'],
): Promise<{ sim: Simulator; store: Store; fx: Fixtures }> {
  const started = await startSimulator(sim);
  const r = await syncStore(started, databaseUrl, streams ? { streams } : {});
  expect(failures(r.result)).toEqual([]);
  return { sim: started, store: r.store, fx: simFixtures(started) };
}

/**
 * The rolling-detail limit (README, "What the API cannot tell an incremental sync"): an edit made
 * without a message that leaves the person's list item as it was (a tag added and removed again)
 * still moves the detail's `updated_at`. Nothing a list answers shows it (people list items carry
 * no updated_at), so the reconcile's list pass cannot see it; only the rolling re-read of the
 * oldest SYNC_RECONCILE_DETAIL_SHARE of details does, within 1/share reconcile runs. This is what
 * the history suite at seed 37 with 80 people met: one person whose two silent tag edits cancelled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientFromEnv, type LeelooClient } from '../../src/leeloo/client.js';
import { silentLogger } from '../../src/log.js';
import { BACKENDS, useBackendDb } from '../helpers/backends.js';
import { expectMirrorMatches, syncPassing } from '../helpers/expect-mirror.js';
import { simEnv } from '../helpers/mirror.js';
import { useSimulator } from '../helpers/sim.js';

describe.each(BACKENDS)('a silent edit that leaves the list item unchanged (%s)', (backend) => {
  const fx = useSimulator({ seed: 37, people: 30 });
  const db = useBackendDb(backend);
  let client: LeelooClient;
  beforeAll(() => {
    client = createClientFromEnv(simEnv(fx.sim, db.url), { logger: silentLogger });
  });
  afterAll(async () => {
    await client?.close();
  });

  it('is invisible to the reconcile list pass, and the rolling detail re-read catches it within 1/share runs', { timeout: 60_000 }, async () => {
    const sim = fx.sim;
    await syncPassing(sim, db.url);
    const person = ([...sim.store.peopleList()] as { id: string; tags: string[] }[])[0]!;
    const tag = sim.store.tags().find((t) => !person.tags.includes(t.name))!;
    const detailUpdatedAt = () => new Date((sim.store.personDetail(person.id) as { data: { updated_at: string } }).data.updated_at).toISOString();
    const mirrored = async () => (await db.rows<{ u: string }>(`SELECT updated_at AS u FROM people WHERE id = '${person.id}'`))[0]!.u;
    const before = detailUpdatedAt();
    expect(await mirrored()).toBe(before);
    await db.release();

    // Added and removed again: the list item is what it was, the detail's updated_at moved.
    await client.addTag(person.id, tag.id);
    await client.removeTag(person.id, tag.id);
    expect(detailUpdatedAt()).not.toBe(before);

    // No rolling re-read: the list pass finds nothing changed, the mirror keeps the old updated_at.
    await syncPassing(sim, db.url, { reconcile: true, env: { SYNC_RECONCILE_DETAIL_SHARE: '0' } }, async ({ rows }) => {
      await expectMirrorMatches(rows, sim, { details: false });
      expect((await rows<{ u: string }>(`SELECT updated_at AS u FROM people WHERE id = '${person.id}'`))[0]!.u).toBe(before);
    });

    // The default share (1/7): the oldest details are re-read each run, so within 7 runs it is fresh.
    let runs = 0;
    let fresh = false;
    while (!fresh && runs < 7) {
      runs++;
      await syncPassing(sim, db.url, { reconcile: true }, async ({ rows }) => {
        fresh = (await rows<{ u: string }>(`SELECT updated_at AS u FROM people WHERE id = '${person.id}'`))[0]!.u === detailUpdatedAt();
      });
    }
    expect(fresh, `still stale after ${runs} reconcile runs`).toBe(true);
    await syncPassing(sim, db.url, {}, async ({ rows }) => expectMirrorMatches(rows, sim));
  });
});

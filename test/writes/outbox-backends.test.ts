/**
 * Every status change of an outbox row, through the one SQL text both backends run: each is
 * guarded by the row's status or its attempt token, the outcome and its mirror reflection commit
 * together, and enqueueWrites is all or none. SQLite, and PostgreSQL once its store exists.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { openStore } from '../../src/db/store/index.js';
import type { Store } from '../../src/db/store/types.js';
import {
  cancelWrite,
  claimPending,
  closeWithoutAttempt,
  enqueueWrite,
  enqueueWrites,
  finishAttempt,
  getWrite,
  listWrites,
  countWrites,
  retryAttemptLater,
  retryWrite,
  startAttempt,
} from '../../src/writes/outbox.js';
import { reflectWrite } from '../../src/writes/reflect.js';
import { normalizeWrite, tagsFor } from '../../src/writes/validate.js';
import { createTestDatabase } from '../helpers/pg.js';

const PERSON = '5b3f543bb2737000133d25b0';
const CHANNEL = '5e42be688d4fff000cafe5cc';

const count = async (store: Store) => Number((await store.get<{ n: number }>(sql`SELECT count(*) AS n FROM outbound_writes`))?.n);

function suite(name: string, open: () => Promise<{ store: Store; done(): Promise<void> }>) {
  describe(`outbox status changes on ${name}`, () => {
    it('attempts are claimed by token; a stale token or a closed row changes nothing', async () => {
      const { store, done } = await open();
      try {
        const row = await enqueueWrite(store, { kind: 'send-message', target: CHANNEL, payload: { text: 'hello' } }, { idempotencyKey: 'k-1' });
        expect(row).toMatchObject({ status: 'pending', attempts: 0, inflight_at: null, idempotency_key: 'k-1' });
        expect(typeof row.id).toBe('number');
        expect(row.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect((await claimPending(store, 10)).map((r) => r.id)).toEqual([row.id]);
        expect(await claimPending(store, 10)).toEqual([]);

        const first = await startAttempt(store, row.id, null);
        expect(first).not.toBeNull();
        // A second worker that read the row before the first claimed it gets nothing.
        expect(await startAttempt(store, row.id, null)).toBeNull();
        expect(await closeWithoutAttempt(store, row.id, null, 'ambiguous', 'stale')).toBe(false);
        // The outcome may have landed: inflight_at stays, the attempt counts.
        expect(await retryAttemptLater(store, row.id, first!, 'HTTP 503', { unknown: true, refund: false })).toBe(true);
        expect(await getWrite(store, row.id)).toMatchObject({ status: 'queued', attempts: 1, inflight_at: first, last_error: 'HTTP 503' });
        // A 429: refused before processing, the attempt is given back and the row is clean again.
        const second = await startAttempt(store, row.id, first);
        expect(second).not.toBeNull();
        expect(await retryAttemptLater(store, row.id, second!, 'HTTP 429', { unknown: false, refund: true })).toBe(true);
        expect(await getWrite(store, row.id)).toMatchObject({ attempts: 1, inflight_at: null });

        const third = await startAttempt(store, row.id, null);
        expect(await finishAttempt(store, row.id, first!, 'succeeded', {})).toBe(false);
        const w = normalizeWrite(row.kind, row.target_id, row.payload, await tagsFor(store, [row.kind]));
        const at = new Date().toISOString();
        expect(await finishAttempt(store, row.id, third!, 'succeeded', { response: { ok: 1 } }, () => reflectWrite(store, w, {}, { outboxId: row.id, at }))).toBe(true);
        expect(await getWrite(store, row.id)).toMatchObject({ status: 'succeeded', attempts: 2, inflight_at: null, api_response: '{"ok":1}' });
        const msg = await store.get<{ channelId: string; text: string; read: number }>(
          sql`SELECT channel_id AS "channelId", text, read FROM chat_messages WHERE id = ${`outbox-${row.id}`}`,
        );
        expect(msg).toEqual({ channelId: CHANNEL, text: 'hello', read: 1 });
        expect(await startAttempt(store, row.id, null)).toBeNull();
        await expect(cancelWrite(store, row.id)).rejects.toThrow(/is succeeded/);

        // An idempotency key is one row's, even after that row finished.
        await expect(enqueueWrite(store, { kind: 'send-message', target: CHANNEL, payload: { text: 'again' } }, { idempotencyKey: 'k-1' })).rejects.toThrow(
          new RegExp(`already used by write #${row.id} \\(succeeded\\)`),
        );
        expect(await listWrites(store, { status: 'succeeded' })).toHaveLength(1);
        expect(await countWrites(store)).toEqual([{ kind: 'send-message', status: 'succeeded', n: 1 }]);
      } finally {
        await done();
      }
    });

    it("an outcome and its reflection commit together: a reflection that fails leaves the row's attempt open", async () => {
      const { store, done } = await open();
      try {
        const row = await enqueueWrite(store, { kind: 'add-comment', target: PERSON, payload: { text: 'x' } });
        const token = await startAttempt(store, row.id, null);
        await expect(
          finishAttempt(store, row.id, token!, 'succeeded', {}, async () => {
            await store.run(sql`UPDATE people SET details_synced_at = NULL WHERE id = ${PERSON}`);
            throw new Error('reflection failed');
          }),
        ).rejects.toThrow('reflection failed');
        expect(await getWrite(store, row.id)).toMatchObject({ status: 'pending', inflight_at: token, completed_at: null });
        // Cancelled meanwhile: the worker's token still records what the API did.
        expect((await cancelWrite(store, row.id)).status).toBe('cancelled');
        expect(await finishAttempt(store, row.id, token!, 'dead', { error: 'HTTP 404' })).toBe(true);
        expect(await getWrite(store, row.id)).toMatchObject({ status: 'dead', last_error: 'HTTP 404' });
        expect(await retryWrite(store, row.id)).toMatchObject({ status: 'pending', attempts: 0, inflight_at: null, completed_at: null });
        expect(await closeWithoutAttempt(store, row.id, null, 'failed', 'bad input')).toBe(true);
        expect(await getWrite(store, row.id)).toMatchObject({ status: 'failed', last_error: 'bad input' });
      } finally {
        await done();
      }
    });

    it('enqueueWrites stores all or none: a bad request or a key used twice rolls the batch back', async () => {
      const { store, done } = await open();
      try {
        const ok = { kind: 'add-comment' as const, target: PERSON, payload: { text: 'fine' } };
        const bad = await enqueueWrites(store, [ok, { kind: 'add-comment', target: PERSON, payload: { text: ' ' } }]).catch((e: unknown) => e);
        expect(bad).toBeInstanceOf(ValidationError);
        expect((bad as ValidationError).field).toBe('[1].text');
        await expect(enqueueWrites(store, [{ ...ok, idempotencyKey: 'same' }, { ...ok, idempotencyKey: 'same' }])).rejects.toThrow(/^\[1\]\.idempotency_key: /);
        expect(await count(store)).toBe(0);
        expect(await enqueueWrites(store, [ok, { ...ok, idempotencyKey: 'same' }])).toHaveLength(2);
        expect(await count(store)).toBe(2);
      } finally {
        await done();
      }
    });
  });
}

suite('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ls-outbox-'));
  const store = await openStore(join(dir, 'mirror.db'));
  return {
    store,
    async done() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

suite('PostgreSQL', async () => {
  const db = await createTestDatabase();
  const store = await openStore(db.url, { poolSize: 2 });
  return {
    store,
    async done() {
      await store.close();
      await db.drop();
    },
  };
});

/**
 * U+0000 on the write path, on both backends. PostgreSQL stores NUL neither in jsonb (the
 * outbox payload, the mirror's raw columns) nor in text. A payload holding one is refused at
 * enqueue, naming the field (and, for a row put in by SQL, at delivery, on the row); an API
 * answer or error echoing one is stored with U+FFFD on PostgreSQL, so the write's outcome is
 * recorded and nothing crashes.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/store/index.js';
import type { Store } from '../../src/db/store/types.js';
import { ValidationError } from '../../src/errors.js';
import type { LeelooClient } from '../../src/leeloo/client.js';
import { deliver } from '../../src/writes/deliver.js';
import { enqueueWrite, enqueueWrites, getWrite } from '../../src/writes/outbox.js';
import { BACKENDS, useBackendDb } from '../helpers/backends.js';

const PERSON = '5b3f543bb2737000133d25b0';
const CHANNEL = '5e42be688d4fff000cafe5cc';
const LEADGENTOOL = '5e42be688d4fff000cafe5dd';
const NEW_PERSON = '6770b4370100000000000099';
const NEW_CHANNEL = '6770b4370200000000000099';
const OPTS = { maxAttempts: 3, backoff: { baseMs: 10, maxMs: 10 } };

/** A client whose every method answers `answer` (or throws it). */
const clientAnswering = (answer: () => unknown): LeelooClient =>
  new Proxy({}, { get: () => async () => answer() }) as LeelooClient;

describe.each(BACKENDS)('NUL characters on the write path (%s)', (backend) => {
  const db = useBackendDb(backend);
  let store: Store;
  const outboxRows = async () => Number((await store.get<{ n: number }>(sql`SELECT count(*) AS n FROM outbound_writes`))?.n);
  beforeAll(async () => {
    store = await openStore(db.url);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('a payload string holding U+0000 is refused at enqueue, naming the field, and nothing is stored', async () => {
    const before = await outboxRows();
    const refused = (p: Promise<unknown>) => expect(p).rejects.toThrow(ValidationError);
    await refused(enqueueWrite(store, { kind: 'send-message', target: CHANNEL, payload: { text: 'a\u0000b' } }));
    await expect(enqueueWrite(store, { kind: 'send-message', target: CHANNEL, payload: { text: 'a\u0000b' } })).rejects.toThrow(
      /^text: contains a NUL character \(\\u0000\), which the outbox cannot store on PostgreSQL; remove it$/,
    );
    await expect(
      enqueueWrite(store, { kind: 'update-person', target: PERSON, payload: { custom_fields: [{ type: 'KEYWORD', name: 'city', value: 'Ky\u0000iv' }] } }),
    ).rejects.toThrow(/^custom_fields\[0\]\.value: contains a NUL character/);
    // A key holding one names its object.
    await expect(enqueueWrite(store, { kind: 'send-template', target: CHANNEL, payload: { template_id: PERSON, variables: { 'x\u0000': 'y' } } })).rejects.toThrow(
      /^variables: contains a NUL character/,
    );
    // A batch: all or none, the request's index in the field.
    await expect(
      enqueueWrites(store, [
        { kind: 'send-message', target: CHANNEL, payload: { text: 'fine' } },
        { kind: 'add-comment', target: PERSON, payload: { text: '\u0000' } },
      ]),
    ).rejects.toThrow(/^\[1\]\.text: contains a NUL character/);
    expect(await outboxRows()).toBe(before);
  });

  it('a backslash followed by u0000 (text, not a NUL) round-trips', async () => {
    const text = 'C:\\u0000\\\\u0000 done';
    const row = await enqueueWrite(store, { kind: 'send-message', target: CHANNEL, payload: { text } });
    expect((JSON.parse((await getWrite(store, row.id))!.payload) as { text: string }).text).toBe(text);
  });

  it('a row put in by SQL with U+0000: SQLite keeps it and delivery fails the row with a one-line error; PostgreSQL refuses the INSERT', async () => {
    const insert = `INSERT INTO outbound_writes (kind, target_id, payload, created_at, updated_at) VALUES ('send-message', '${CHANNEL}', '{"text":"a\\u0000b"}', '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z')`;
    if (backend === 'postgres') {
      await expect(store.run(sql.raw(insert))).rejects.toThrow(/Unicode escape|\\u0000/);
      return;
    }
    expect(await store.run(sql.raw(insert))).toBe(1);
    const id = Number((await store.get<{ id: number }>(sql`SELECT max(id) AS id FROM outbound_writes`))!.id);
    let sent = 0;
    const d = await deliver(store, clientAnswering(() => void sent++), id, OPTS);
    expect(d).toEqual({ outcome: 'failed', error: expect.stringMatching(/^text: contains a NUL character/) });
    expect(sent).toBe(0);
    expect(await getWrite(store, id)).toMatchObject({ status: 'failed', attempts: 0, last_error: expect.stringMatching(/^text: contains a NUL character[^\n]*$/) });
  });

  it('an API answer holding U+0000 is reflected and the success recorded; the answer itself round-trips in api_response', async () => {
    const row = await enqueueWrite(store, { kind: 'create-person', target: LEADGENTOOL, payload: { name: 'Ann', email: 'ann@example.com', phone: '+380501234567' } });
    const answer = {
      id: NEW_CHANNEL,
      person_id: NEW_PERSON,
      name: 'An\u0000n',
      email: 'NOT_DEFINED',
      phone: '+380501234567',
      tags: ['t\u0000ag'],
      from: 'MANUAL',
      botStatus: 'OFF',
      connectionStatus: 'OK',
      createdAt: '2026-12-01T10:00:00.000Z',
      // Not a time: read as the sync reads it (null), not refused by timestamptz.
      updatedAt: 'yesterday\u0000',
    };
    const d = await deliver(store, clientAnswering(() => answer), row.id, OPTS);
    expect(d).toMatchObject({ outcome: 'succeeded' });
    const stored = (await getWrite(store, row.id))!;
    expect(stored.status).toBe('succeeded');
    expect(JSON.parse(stored.api_response!)).toEqual(answer);
    const kept = backend === 'postgres' ? 'An\ufffdn' : 'An\u0000n';
    const person = await store.get<{ name: string; raw: string; created_at: string; updated_at: string | null }>(
      sql`SELECT name, raw, created_at, updated_at FROM people WHERE id = ${NEW_PERSON}`,
    );
    expect(person).toMatchObject({ name: kept, created_at: '2026-12-01T10:00:00.000Z', updated_at: null });
    expect((JSON.parse(person!.raw) as { name: string }).name).toBe(kept);
    const channel = await store.get<{ name: string }>(sql`SELECT name FROM communication_channels WHERE id = ${NEW_CHANNEL}`);
    expect(channel?.name).toBe(kept);
  });

  it('an error text holding U+0000 is recorded on the row, not a crash', async () => {
    const row = await enqueueWrite(store, { kind: 'add-comment', target: PERSON, payload: { text: 'hi' } });
    const d = await deliver(
      store,
      clientAnswering(() => {
        throw new Error('socket said \u0000 and hung up');
      }),
      row.id,
      OPTS,
    );
    expect(d.outcome).toBe('ambiguous');
    const stored = (await getWrite(store, row.id))!;
    expect(stored.status).toBe('ambiguous');
    expect(stored.last_error).toMatch(/^socket said \ufffd and hung up; /);
  });
});

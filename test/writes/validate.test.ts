import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMirror, type Mirror } from '../../src/db/connection.js';
import { SqliteStore } from '../../src/db/store/sqlite.js';
import { ValidationError } from '../../src/errors.js';
import { WRITE_KINDS } from '../../src/writes/operations.js';
import type { WriteRequest } from '../../src/writes/validate.js';
import { cancelWrite, enqueueWrite, enqueueWrites, getWrite, retryWrite } from '../../src/writes/outbox.js';
import { LIMITS } from '../../src/writes/fields.js';
import { mirrorTags, normalizeWrite, storedPayload } from '../../src/writes/validate.js';

const P = '5b3f543bb2737000133d25b0';
const O = '5e2825e081fbca000d8596e4';
const C = '5e42be688d4fff000cafe5cc';
const L = '5e1f119d6c384804b31e945e';
const VIP = '595f5d522a934035decc093d';
const DUP_A = '595f5d522a934035decc0a01';
const DUP_B = '595f5d522a934035decc0a02';

function refusal(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

async function refused(p: Promise<unknown>): Promise<ValidationError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('write validation and the outbox store', () => {
  // Set up through the raw connection (SQL users' view); the outbox speaks to the Store over it.
  let m: Mirror;
  let store: SqliteStore;
  const count = () => (m.sqlite.prepare('SELECT count(*) AS n FROM outbound_writes').get() as { n: number }).n;
  beforeEach(() => {
    m = openMirror(':memory:');
    const ins = m.sqlite.prepare("INSERT INTO tags (id, name, raw, synced_at) VALUES (?, ?, '{}', '2024-01-01T00:00:00.000Z')");
    ins.run(VIP, 'vip');
    ins.run(DUP_A, 'twice');
    ins.run(DUP_B, 'twice');
    store = new SqliteStore(m);
  });
  afterEach(() => m.close());

  it('accepts one valid request of every operation and stores it pending', async () => {
    const valid: WriteRequest[] = [
      { kind: 'add-tag', target: P, payload: { tag: 'vip' } },
      { kind: 'remove-tag', target: P, payload: { tag_id: VIP } },
      { kind: 'add-comment', target: P, payload: { text: 'called, wants a callback' } },
      { kind: 'update-person', target: P, payload: { phone: '+380669991876', custom_fields: [{ type: 'NUMBER', name: 'age', value: 41 }] } },
      { kind: 'create-person', target: L, payload: { name: 'Feliks', email: 'feliks@gmail.com', phone: '+380953066789' } },
      { kind: 'add-sms-connection', target: L, payload: { connection_id: C, data: [{ name: 'Olena', phone: '+380667772233' }], tags: ['vip'] } },
      { kind: 'update-order', target: O, payload: { status: 'RESOLVED', price: '100', currency: 'usd', paymentDate: '2018-06-27 07:32' } },
      { kind: 'create-order', target: P, payload: { offerId: O, paymentCreditsId: C, isNotifyAccount: false, transactionDate: '2020-02-04T11:46:48.803Z' } },
      { kind: 'send-message', target: C, payload: { text: 'Hello!' } },
      { kind: 'send-template', target: C, payload: { template_id: O, variables: { name: 'Ann', n: 3 } } },
      { kind: 'manual-subscribe', target: C, payload: { tunnel_id: O, tunnel_block_id: L } },
      { kind: 'create-traffic-source', target: L, payload: { name: 'some ts', description: 'from the CRM' } },
    ];
    expect(valid.map((r) => r.kind).sort()).toEqual([...WRITE_KINDS].sort());
    for (const r of valid) {
      const row = await enqueueWrite(store, r);
      expect(row).toMatchObject({ kind: r.kind, target_id: r.target, status: 'pending', attempts: 0 });
    }
    const payload = (kind: string) => JSON.parse((m.sqlite.prepare('SELECT payload FROM outbound_writes WHERE kind = ?').get(kind) as { payload: string }).payload);
    // Stored normalized: tag names resolved to ids, numbers and dates in the form the API takes.
    // Only documented fields: the tag's name is looked up again at delivery.
    expect(payload('add-tag')).toEqual({ tag_id: VIP });
    expect(payload('remove-tag')).toEqual({ tag_id: VIP });
    expect(payload('add-sms-connection').tags).toEqual([VIP]);
    expect(payload('update-order')).toEqual({ status: 'RESOLVED', price: 100, currency: 'USD', paymentDate: '2018-06-27 07:32' });
    expect(payload('update-person').custom_fields).toEqual([{ type: 'NUMBER', name: 'age', value: '41' }]);
    expect(payload('create-order').isNotifyAccount).toBe('false');
    expect(payload('send-template').variables).toEqual({ name: 'Ann', n: '3' });
    // What is stored validates again unchanged (the worker re-validates every row before sending).
    for (const r of m.sqlite.prepare('SELECT kind, target_id, payload FROM outbound_writes').all() as { kind: string; target_id: string; payload: string }[]) {
      expect(storedPayload(normalizeWrite(r.kind, r.target_id, r.payload, await mirrorTags(store)))).toEqual(JSON.parse(r.payload));
    }
  });

  it('refuses bad input naming the field, and stores nothing', async () => {
    const cases: [WriteRequest, string, RegExp][] = [
      [{ kind: 'add-tag', target: P, payload: { tag: 'no such tag' } }, 'tag', /unknown tag "no such tag"/],
      [{ kind: 'add-tag', target: P, payload: { tag: 'twice' } }, 'tag', /matches 2 tags.*give the tag's id/],
      [{ kind: 'add-tag', target: P, payload: {} }, 'tag', /is required/],
      [{ kind: 'add-tag', target: 'abc', payload: { tag: 'vip' } }, 'person (target_id)', /24-hex/],
      [{ kind: 'send-message', target: '', payload: { text: 'x' } }, 'channel (target_id)', /24-hex/],
      [{ kind: 'update-order', target: O, payload: { status: 'DONE' as 'RESOLVED' } }, 'status', /RESOLVED or REJECTED/],
      [{ kind: 'update-order', target: O, payload: {} as { status: 'RESOLVED' } }, 'status', /is required/],
      [{ kind: 'update-order', target: O, payload: { status: 'REJECTED', price: '-5' } }, 'price', /non-negative number/],
      [{ kind: 'update-person', target: P, payload: { phone: '380669991876' } }, 'phone', /"\+" followed by 5 to 15 digits/],
      [{ kind: 'update-person', target: P, payload: {} }, 'payload', /at least one of phone, email, custom_fields/],
      [{ kind: 'update-person', target: P, payload: { custom_fields: [{ type: 'TEXT' as 'KEYWORD', name: 'x', value: 'y' }] } }, 'custom_fields[0].type', /one of EMAIL/],
      [{ kind: 'create-person', target: L, payload: { name: 'Feliks', phone: '+380953066789' } as never }, 'email', /is required/],
      [{ kind: 'add-comment', target: P, payload: { text: '   ' } }, 'text', /must not be empty/],
      [{ kind: 'add-comment', target: P, payload: { comment: 'hi' } as never }, 'comment', /not a field of this operation/],
      [{ kind: 'add-sms-connection', target: L, payload: { connection_id: C, data: [{ name: 'A', phone: '12' }] } }, 'data[0].phone', /digits/],
      [{ kind: 'add-sms-connection', target: L, payload: { connection_id: C, data: [] } }, 'data', /at least one contact/],
      [{ kind: 'add-sms-connection', target: L, payload: { connection_id: C, data: [{ name: 'A', phone: '+380667772233' }], tags: ['nope'] } }, 'tags[0]', /unknown tag/],
      [{ kind: 'create-order', target: P, payload: { offerId: 'x', paymentCreditsId: C } }, 'offerId', /24-hex/],
      [{ kind: 'create-order', target: P, payload: { offerId: O, paymentCreditsId: C, transactionDate: 'yesterday' } }, 'transactionDate', /ISO timestamp/],
      [{ kind: 'manual-subscribe', target: C, payload: { tunnel_id: O } as never }, 'tunnel_block_id', /is required/],
      [{ kind: 'upsert-person' as 'add-tag', target: P, payload: {} }, 'kind', /unknown operation "upsert-person"; one of add-tag/],
    ];
    for (const [req, field, msg] of cases) {
      const err = await refused(enqueueWrite(store, req));
      expect({ req, field: err.field }).toEqual({ req, field });
      expect(err.message.startsWith(`${field}: `)).toBe(true);
      expect(err.message).toMatch(msg);
    }
    expect(count()).toBe(0);
  });

  it('validates rows as inserted by SQL, payload text and all', async () => {
    const tags = await mirrorTags(store);
    expect(normalizeWrite('add-tag', P.toUpperCase(), '{"tag":"vip"}', tags)).toEqual({ kind: 'add-tag', target: P, payload: { tag_id: VIP, tag_name: 'vip' } });
    expect(refusal(() => normalizeWrite('add-tag', P, '{"tag":', tags)).message).toBe('payload: is not valid JSON');
    expect(refusal(() => normalizeWrite('add-tag', P, '[1]', tags)).message).toBe('payload: must be a JSON object');
    expect(refusal(() => normalizeWrite('add-tag', null, '{"tag":"vip"}', tags)).message).toBe('person (target_id): is required');
    // An id the mirror does not know yet (a tag newer than the last sync) is taken as an id.
    expect(normalizeWrite('remove-tag', P, { tag: '595f5d522a934035decc0fff' }, tags).payload).toEqual({ tag_id: '595f5d522a934035decc0fff', tag_name: null });
  });

  it('bounds every text, list and the whole payload, naming the field and the limit', async () => {
    const tags = await mirrorTags(store);
    const x = (n: number) => 'x'.repeat(n);
    const ids = (n: number) => Array.from({ length: n }, (_, i) => (i + 1).toString(16).padStart(24, '0'));
    const contact = { name: 'Olena', phone: '+380667772233' };
    const cases: [string, string, unknown, string][] = [
      ['send-message', C, { text: x(LIMITS.message + 1) }, 'text: must be at most 4096 characters (got 4097)'],
      ['add-comment', P, { text: x(10_001) }, 'text: must be at most 10000 characters (got 10001)'],
      ['update-order', O, { status: 'RESOLVED', userComments: x(10_001) }, 'userComments: must be at most 10000 characters (got 10001)'],
      ['create-person', L, { name: x(257), email: 'a@b.co', phone: '+380953066789' }, 'name: must be at most 256 characters (got 257)'],
      ['create-person', L, { name: 'A', email: `${x(250)}@b.co`, phone: '+380953066789' }, 'email: must be at most 254 characters'],
      ['create-person', L, { name: 'A', email: 'a@b.co', phone: `+${'1'.repeat(40)}` }, 'phone: must be at most 32 characters'],
      ['create-person', L, { name: 'A', email: 'a@b.co', phone: '+380953066789', connected_users_ids: ids(101) }, 'connected_users_ids: must list at most 100 ids'],
      ['update-person', P, { custom_fields: [{ type: 'KEYWORD', name: 'city', value: x(1025) }] }, 'custom_fields[0].value: must be at most 1024 characters (got 1025)'],
      ['update-person', P, { custom_fields: [{ type: 'KEYWORD', name: x(257), value: 'v' }] }, 'custom_fields[0].name: must be at most 256 characters (got 257)'],
      ['update-person', P, { custom_fields: Array.from({ length: 101 }, () => ({ type: 'KEYWORD', name: 'n', value: 'v' })) }, 'custom_fields: must list at most 100 custom fields'],
      ['send-template', C, { template_id: O, variables: Object.fromEntries(ids(51).map((k) => [k, 'v'])) }, 'variables: must list at most 50 variables'],
      ['send-template', C, { template_id: O, variables: { name: x(1025) } }, 'variables.name: must be at most 1024 characters (got 1025)'],
      ['send-template', C, { template_id: O, variables: { [x(65)]: 'v' } }, 'variables: variable names must be 1 to 64 characters'],
      ['add-sms-connection', L, { connection_id: C, data: Array.from({ length: 1001 }, () => contact) }, 'data: must list at most 1000 contacts per write'],
      ['add-sms-connection', L, { connection_id: C, data: [contact], tags: Array.from({ length: 101 }, () => 'vip') }, 'tags: must list at most 100 tags'],
      ['add-sms-connection', L, { connection_id: C, data: [{ ...contact, name: { first: 'Olena' } }] }, 'data[0].name: must be text'],
      ['create-traffic-source', L, { name: 'ts', description: x(1001) }, 'description: must be at most 1000 characters (got 1001)'],
      ['add-tag', P, { tag: x(257) }, 'tag: must be at most 256 characters'],
      // Each field within its limit, the whole too big.
      ['add-sms-connection', L, { connection_id: C, data: Array.from({ length: 1000 }, () => ({ name: x(250), phone: '+380667772233' })) }, expect.stringMatching(/^payload: is \d+ bytes of JSON; at most 262144 bytes \(256 KiB\) are accepted$/) as unknown as string],
    ];
    for (const [kind, target, payload, msg] of cases) {
      expect({ kind, msg: refusal(() => normalizeWrite(kind, target, payload, tags)).message }).toEqual({ kind, msg });
      expect({ kind, msg: refusal(() => normalizeWrite(kind, target, JSON.stringify(payload), tags)).message }).toEqual({ kind, msg });
    }
    // Characters are counted as people count them: an emoji is one.
    expect(() => normalizeWrite('send-message', C, { text: '👍'.repeat(LIMITS.message) }, tags)).not.toThrow();
    // A payload too large to be worth parsing is refused as such.
    expect(refusal(() => normalizeWrite('add-comment', P, `{"text":"${x(33 * 1024 * 1024)}"}`, tags)).message).toMatch(/^payload: is \d+ characters of JSON; at most 262144 bytes/);
  });

  it('the status column refuses values outside the documented set', async () => {
    expect(() => m.sqlite.prepare("INSERT INTO outbound_writes (kind, target_id, status) VALUES ('add-tag', ?, 'Pending')").run(P)).toThrow(/CHECK constraint/);
    // The documented minimal INSERT works and defaults to pending.
    m.sqlite.prepare(`INSERT INTO outbound_writes (kind, target_id, payload) VALUES ('add-tag', ?, '{"tag":"vip"}')`).run(P);
    expect(await getWrite(store, 1)).toMatchObject({ status: 'pending', attempts: 0, payload: '{"tag":"vip"}' });
  });

  it('an idempotency key is refused the second time, or answered with the first row', async () => {
    const req: WriteRequest = { kind: 'add-comment', target: P, payload: { text: 'once' } };
    const first = await enqueueWrite(store, req, { idempotencyKey: 'crm-42' });
    const err = await refused(enqueueWrite(store, req, { idempotencyKey: 'crm-42' }));
    expect(err.field).toBe('idempotency_key');
    expect(err.message).toMatch(new RegExp(`already used by write #${first.id} \\(pending\\)`));
    expect((await enqueueWrite(store, req, { idempotencyKey: 'crm-42', ifExists: 'return' })).id).toBe(first.id);
    expect(count()).toBe(1);
  });

  it('enqueueWrites stores all or nothing and names the bad request', async () => {
    const err = await refused(
      enqueueWrites(store, [
        { kind: 'add-tag', target: P, payload: { tag: 'vip' } },
        { kind: 'add-tag', target: P, payload: { tag: 'missing' } },
      ]),
    );
    expect(err.field).toBe('[1].tag');
    expect(count()).toBe(0);
    expect(await enqueueWrites(store, [{ kind: 'add-tag', target: P, payload: { tag: 'vip' } }, { kind: 'send-message', target: C, payload: { text: 'hi' } }])).toHaveLength(2);
    expect(count()).toBe(2);
  });

  it('retry and cancel move rows only between the documented statuses', async () => {
    const row = await enqueueWrite(store, { kind: 'send-message', target: C, payload: { text: 'hi' } });
    await expect(retryWrite(store, row.id)).rejects.toThrow(/is pending; only failed, dead, ambiguous, cancelled writes can be retried/);
    expect(await cancelWrite(store, row.id)).toMatchObject({ status: 'cancelled' });
    await expect(cancelWrite(store, row.id)).rejects.toThrow(/is cancelled/);
    m.sqlite.prepare("UPDATE outbound_writes SET attempts = 3, last_error = 'x', inflight_at = 'y' WHERE id = ?").run(row.id);
    expect(await retryWrite(store, row.id)).toMatchObject({ status: 'pending', attempts: 0, inflight_at: null, completed_at: null });
    m.sqlite.prepare("UPDATE outbound_writes SET status = 'succeeded' WHERE id = ?").run(row.id);
    await expect(cancelWrite(store, row.id)).rejects.toThrow(/is succeeded; only pending, queued, failed, dead, ambiguous writes can be cancelled/);
    await expect(retryWrite(store, 999)).rejects.toThrow(/no write #999/);
  });

  it("README's SQL examples store rows the worker accepts; the idempotent one can run twice", async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Write-backs\n'), readme.indexOf('\n## ', readme.indexOf('\n## Write-backs\n') + 5));
    const sql = /```sql\n([\s\S]*?)```/.exec(section)![1]!;
    const person = m.sqlite.prepare("INSERT INTO people (id, email, raw, synced_at) VALUES (?, ?, '{}', 'x')");
    person.run(P, 'ann@bigcorp.com');
    person.run('5b3f543bb2737000133d25b1', 'bob@elsewhere.com');
    m.sqlite.prepare("INSERT INTO communication_channels (id, person_id, source, synced_at) VALUES (?, ?, 'TELEGRAM', 'x')").run(C, P);
    m.sqlite.exec(sql);
    const rows = m.sqlite.prepare('SELECT kind, target_id, payload, status FROM outbound_writes ORDER BY id').all() as { kind: string; target_id: string; payload: string; status: string }[];
    expect(rows.map((r) => [r.kind, r.target_id, r.status])).toEqual([
      ['update-order', '5e5502a01b1668000ccc93ee', 'pending'],
      ['add-tag', P, 'pending'],
      ['send-message', C, 'pending'],
    ]);
    const tags = await mirrorTags(store);
    for (const r of rows) expect(() => normalizeWrite(r.kind, r.target_id, r.payload, tags)).not.toThrow();
    m.sqlite.exec(sql.slice(sql.indexOf('INSERT OR IGNORE')));
    expect(count()).toBe(3);
  });
});

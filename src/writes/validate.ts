/**
 * The payload of each operation: its zod schema is the one source of its types (WritePayloads,
 * what is accepted; NormalizedPayloads, what is sent) and of its validation, the same for every
 * way in (typed function, CLI, SQL INSERT): run at enqueue time, and again by the worker before
 * sending, so a row inserted by SQL with bad input ends `failed` with the message and never
 * reaches the API. Where the payload is an endpoint's body, its fields are those the client
 * documents (src/leeloo/bodies.ts), less the one the row's target_id fills.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Store } from '../db/store/types.js';
import { ValidationError } from '../errors.js';
import * as body from '../leeloo/bodies.js';
import * as f from './fields.js';
import { KIND_INFO, WRITE_KINDS, isWriteKind, type WriteKind } from './operations.js';

const { LIMITS } = f;
const tagName = z.string({ error: 'must be a tag name or id' }).trim().min(1, 'must not be empty').max(LIMITS.tag, `must be at most ${LIMITS.tag} characters`);

/**
 * Tag names resolve through the mirrored tags table; add-tag/remove-tag take ids (docs 20, 21).
 * The tag's name, which the post-crash check and the mirror's person_tags use, is never taken
 * from outside: it is looked up in the mirror at delivery.
 */
const tagRef = z.object({ tag: tagName.optional(), tag_id: f.hexId.optional() });

/** Each of `of`'s fields but `target`'s, every one with its own validator of the client's type; no other field is accepted. */
function bodyOf<S extends z.core.$ZodShape, const T extends keyof S, F extends { [K in Exclude<keyof S, T>]: z.ZodType<z.output<S[K]>> }>(
  of: z.ZodObject<S>,
  target: readonly T[],
  fields: F & Record<Exclude<keyof F, Exclude<keyof S, T>>, never>,
): z.ZodObject<F, z.core.$strict> {
  const want = Object.keys(of.shape).filter((k) => !(target as readonly string[]).includes(k));
  const got = Object.keys(fields);
  if (got.length !== want.length || !want.every((k) => got.includes(k))) throw new Error(`payload fields ${got.join(', ')} are not the documented ${want.join(', ')}`);
  return z.strictObject(fields);
}

const schemas = {
  'add-tag': z.strictObject(tagRef.shape),
  'remove-tag': z.strictObject(tagRef.shape),
  // The API's field is `comment`; the payload's has been `text` since the first row.
  'add-comment': z.strictObject({ text: f.textUpTo(LIMITS.comment) }),
  'update-person': bodyOf(body.updatePersonBody, [], {
    phone: f.phone.optional(),
    email: f.email.optional(),
    custom_fields: z
      .array(
        z.strictObject({
          type: f.customFieldType,
          name: f.textUpTo(LIMITS.name),
          value: z.union([f.plainUpTo(LIMITS.customFieldValue), z.number()], { error: 'must be text or a number' }).transform(String),
        }),
        { error: 'must be a list of {type, name, value}' },
      )
      .min(1, 'must not be empty')
      .max(LIMITS.customFields, f.listMax(LIMITS.customFields, 'custom fields'))
      .optional(),
  }).refine((p) => p.phone !== undefined || p.email !== undefined || p.custom_fields !== undefined, 'needs at least one of phone, email, custom_fields'),
  // POST /people: only connected_users_ids is optional ("NOTE: connected_users_ids - is not required").
  'create-person': bodyOf(body.createPersonBody, ['leadgentool_id'], { name: f.textUpTo(LIMITS.name), email: f.email, phone: f.phone, connected_users_ids: f.idList.optional() }),
  'add-sms-connection': bodyOf(body.addSmsConnectionBody, ['leadgentool_id'], {
    connection_id: f.hexId,
    data: z
      .array(z.strictObject({ name: f.textUpTo(LIMITS.name), phone: f.phone, email: f.email.optional() }), { error: 'must be a list of {name, phone, email?}' })
      .min(1, 'must list at least one contact')
      .max(LIMITS.contacts, `must list at most ${LIMITS.contacts} contacts per write`),
    tags: z.array(tagName, { error: 'must be a list of tag names or ids' }).max(LIMITS.tags, f.listMax(LIMITS.tags, 'tags')).optional(),
  }),
  'update-order': bodyOf(body.updateOrderFields, [], {
    status: f.orderStatus,
    price: f.price.optional(),
    currency: f.currency.optional(),
    paymentDate: f.paymentDate.optional(),
    userComments: f.plainUpTo(LIMITS.comment).optional(),
  }),
  'create-order': bodyOf(body.createOrderBody, ['personId'], {
    offerId: f.hexId,
    paymentCreditsId: f.hexId,
    email: f.email.optional(),
    phone: f.phone.optional(),
    transactionDate: f.isoDate.optional(),
    isNotifyAccount: f.flag.optional(),
    managerId: f.hexId.optional(),
  }),
  'send-message': bodyOf(body.sendMessageBody, ['account_id'], { text: f.textUpTo(LIMITS.message) }),
  'send-template': bodyOf(body.sendTemplateBody, ['account_id'], {
    template_id: f.hexId,
    variables: z
      .record(
        z.string(),
        z.union([f.plainUpTo(LIMITS.templateVariableValue), z.number()], { error: 'must be text or a number' }).transform(String),
        { error: 'must be an object of text values' },
      )
      .refine((v) => Object.keys(v).length <= LIMITS.templateVariables, f.listMax(LIMITS.templateVariables, 'variables'))
      .refine(
        (v) => Object.keys(v).every((k) => k !== '' && f.charCount(k) <= LIMITS.templateVariableName),
        `variable names must be 1 to ${LIMITS.templateVariableName} characters`,
      )
      .optional(),
  }),
  'manual-subscribe': bodyOf(body.manualSubscribeFields, [], { tunnel_id: f.hexId, tunnel_block_id: f.hexId }),
  'create-traffic-source': bodyOf(body.createTrafficSourceBody, [], { name: f.textUpTo(LIMITS.name), description: f.plainUpTo(LIMITS.description).optional() }),
} satisfies Record<WriteKind, z.ZodType>;

/** A payload longer than this is refused without parsing it (field errors are clearer, so smaller ones are parsed first). */
const PARSE_LIMIT = 32 * 1024 * 1024;

type Parsed<K extends WriteKind> = z.output<(typeof schemas)[K]>;

/**
 * The payload of each operation as accepted from the typed function, the CLI and SQL (the
 * `payload` JSON column). Ids are 24-hex; tags may be names (resolved through the mirrored tags
 * table) or ids.
 */
export type WritePayloads = { [K in WriteKind]: z.input<(typeof schemas)[K]> };

/** A write request: the same three things a SQL INSERT gives (kind, target_id, payload). */
export type WriteRequest = { [K in WriteKind]: { kind: K; target: string; payload: WritePayloads[K] } }[WriteKind];

/** Payloads after validation: what the worker sends. A tag is sent by id; its name is the mirror's, for the post-crash check. */
export type NormalizedPayloads = { [K in WriteKind]: K extends 'add-tag' | 'remove-tag' ? { tag_id: string; tag_name: string | null } : Parsed<K> };

export type NormalizedWrite = { [K in WriteKind]: { kind: K; target: string; payload: NormalizedPayloads[K] } }[WriteKind];

/** Looks tags up in the mirror. */
export interface TagLookup {
  nameOf(id: string): string | undefined;
  idsOf(name: string): string[];
}

/**
 * The mirrored tags table, read once into memory: validation (zod, synchronous) resolves names
 * while it runs, and a company's tags are a few hundred rows, cheaper to read whole than to ask
 * for one by one across a connection.
 */
export async function mirrorTags(store: Store): Promise<TagLookup> {
  const byId = new Map<string, string>();
  const byName = new Map<string, string[]>();
  for (const t of await store.all<{ id: string; name: string }>(sql`SELECT id, name FROM tags ORDER BY id`)) {
    byId.set(t.id, t.name);
    const ids = byName.get(t.name);
    if (ids) ids.push(t.id);
    else byName.set(t.name, [t.id]);
  }
  return { nameOf: (id) => byId.get(id), idsOf: (name) => [...(byName.get(name) ?? [])] };
}

/** The operations whose payload names tags. */
const TAG_KINDS: ReadonlySet<unknown> = new Set<WriteKind>(['add-tag', 'remove-tag', 'add-sms-connection']);

const NO_TAGS: TagLookup = {
  nameOf: () => {
    throw new Error('tag lookup for an operation without tags');
  },
  idsOf: () => {
    throw new Error('tag lookup for an operation without tags');
  },
};

/** mirrorTags() when one of `kinds` names tags; the others validate without reading the table. */
export function tagsFor(store: Store, kinds: readonly unknown[]): Promise<TagLookup> {
  return kinds.some((k) => TAG_KINDS.has(k)) ? mirrorTags(store) : Promise.resolve(NO_TAGS);
}

/** A tag name or id → its id; an unknown name is refused (the mirror's tags table is the only way to resolve it). */
export function resolveTag(field: string, value: string, tags: TagLookup): { id: string; name: string | null } {
  const v = value.trim();
  if (f.HEX_ID.test(v)) {
    const id = v.toLowerCase();
    const name = tags.nameOf(id);
    if (name !== undefined) return { id, name };
    if (tags.idsOf(v).length === 0) return { id, name: null }; // a tag newer than the last sync
  }
  const ids = tags.idsOf(v);
  if (ids.length === 1) return { id: ids[0] as string, name: v };
  if (ids.length > 1) throw new ValidationError(field, `the name "${v}" matches ${ids.length} tags (${ids.join(', ')}); give the tag's id instead`);
  throw new ValidationError(field, `unknown tag "${v}": not in the mirrored tags table (names are case-sensitive; sync the tags stream if it is new)`);
}

/**
 * Validates and normalizes one request. `payload` may be a parsed object or the JSON text of
 * the payload column. Throws ValidationError naming the first bad field.
 */
export function normalizeWrite(kind: unknown, target: unknown, payload: unknown, tags: TagLookup): NormalizedWrite {
  if (!isWriteKind(kind)) {
    throw new ValidationError('kind', `${kind === undefined || kind === null || kind === '' ? 'is required' : `unknown operation "${String(kind)}"`}; one of ${WRITE_KINDS.join(', ')}`);
  }
  const role = KIND_INFO[kind].target;
  const t = f.hexId.safeParse(target);
  if (!t.success) throw new ValidationError(`${role} (target_id)`, t.error.issues[0]?.message ?? 'must be a 24-hex id');
  let body = payload;
  if (typeof payload === 'string') {
    // Not even parsed past this: memory stays bounded whatever a SQL row holds.
    if (payload.length > PARSE_LIMIT) throw new ValidationError('payload', `is ${payload.length} characters of JSON; at most ${LIMITS.payloadBytes} bytes (${LIMITS.payloadBytes / 1024} KiB) are accepted`);
    try {
      body = JSON.parse(payload === '' ? '{}' : payload) as unknown;
    } catch {
      throw new ValidationError('payload', 'is not valid JSON');
    }
  }
  if (body === undefined || body === null) body = {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('payload', 'must be a JSON object');
  const nul = nulPath(body, '');
  if (nul !== undefined) throw new ValidationError(nul, NUL_DETAIL);
  const parsed = schemas[kind].safeParse(body);
  if (!parsed.success) throw toValidationError(parsed.error.issues, Object.keys(schemas[kind].shape));
  const p = parsed.data as Record<string, unknown>;
  const bytes = Buffer.byteLength(typeof payload === 'string' ? payload : JSON.stringify(body));
  if (bytes > LIMITS.payloadBytes) throw new ValidationError('payload', `is ${bytes} bytes of JSON; at most ${LIMITS.payloadBytes} bytes (${LIMITS.payloadBytes / 1024} KiB) are accepted`);

  switch (kind) {
    case 'add-tag':
    case 'remove-tag': {
      const ref = p as z.output<typeof tagRef>;
      if (ref.tag_id !== undefined) {
        return { kind, target: t.data, payload: { tag_id: ref.tag_id, tag_name: tags.nameOf(ref.tag_id) ?? null } };
      }
      if (ref.tag === undefined) throw new ValidationError('tag', 'is required (a tag name or id)');
      const r = resolveTag('tag', ref.tag, tags);
      return { kind, target: t.data, payload: { tag_id: r.id, tag_name: r.name } };
    }
    case 'add-sms-connection': {
      const sms = p as Parsed<'add-sms-connection'>;
      // "tags here are ids" (docs/leeloo-api.md, POST /people/sms), unlike person objects, which carry names.
      const ids = sms.tags?.map((tag, i) => resolveTag(`tags[${i}]`, tag, tags).id);
      const out: NormalizedPayloads['add-sms-connection'] = { connection_id: sms.connection_id, data: sms.data };
      if (ids) out.tags = ids;
      return { kind, target: t.data, payload: out };
    }
    default:
      return { kind, target: t.data, payload: p } as NormalizedWrite;
  }
}

/**
 * What the outbox stores: the request in its documented form, without what the worker derives
 * itself (a tag's name), so a stored row passes the same validation as a SQL-inserted one.
 */
export function storedPayload(w: NormalizedWrite): unknown {
  if (w.kind === 'add-tag' || w.kind === 'remove-tag') return { tag_id: w.payload.tag_id };
  return w.payload;
}

/**
 * A payload string (or key) holding U+0000 is refused on both backends: PostgreSQL can store NUL
 * neither in jsonb (the outbox's payload column) nor in text (the mirror rows a reflection
 * writes), so such a write would fail at the INSERT or, worse, after the API applied it; no
 * Leeloo field needs a NUL. The same rule on SQLite keeps a mirror movable between backends.
 */
const NUL_DETAIL = 'contains a NUL character (\\u0000), which the outbox cannot store on PostgreSQL; remove it';

/** The field (`text`, `custom_fields[0].value`) of the first string holding U+0000 (its object's, for a key; `payload` at the top), or undefined. */
function nulPath(v: unknown, path: string): string | undefined {
  if (typeof v === 'string') return v.includes('\u0000') ? path : undefined;
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) {
      const at = nulPath(x, `${path}[${i}]`);
      if (at !== undefined) return at;
    }
    return undefined;
  }
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const key = path === '' ? k : `${path}.${k}`;
      if (k.includes('\u0000')) return path === '' ? 'payload' : path;
      const at = nulPath(x, key);
      if (at !== undefined) return at;
    }
  }
  return undefined;
}

function toValidationError(issues: readonly z.core.$ZodIssue[], fields: string[]): ValidationError {
  // A misspelt field name explains the "is required" of the right one: report it first.
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0];
  if (!issue) return new ValidationError('payload', 'is invalid');
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    if (path === '') return new ValidationError(key, `is not a field of this operation (its fields: ${fields.join(', ')})`);
    return new ValidationError(`${path}.${key}`, 'is not a field here');
  }
  return new ValidationError(path === '' ? 'payload' : path, issue.message);
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

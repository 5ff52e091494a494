/**
 * The write-back operations, one per write endpoint of the Leeloo docs
 * (the API docs; numbers in comments follow docs/leeloo-api.md's index): what the row's
 * target_id names, whether resending is safe, how it is sent with the API client and, for
 * idempotent ones whose effect can be read back, how to check whether an attempt with an
 * unknown outcome already took effect (so it is not sent a second time).
 *
 * Light at run time (types only from the client and the validators): the CLI loads it for --help.
 */
import type { CallOptions, LeelooClient } from '../leeloo/client.js';
import type { NormalizedPayloads, NormalizedWrite } from './validate.js';

export const WRITE_KINDS = [
  'add-tag', // 21. PUT /people/{id}/add-tag
  'remove-tag', // 20. PUT /people/{id}/remove-tag
  'add-comment', // 18. PUT /people/{id}/add-comment
  'update-person', // 15. PUT /people/{id}
  'create-person', // 16. POST /people
  'add-sms-connection', // 17. POST /people/sms
  'update-order', // 12. POST /orders/{id}
  'create-order', // 9. POST /orders
  'send-message', // 5. POST /messages/send-message
  'send-template', // 3. POST /messages/send-template
  'manual-subscribe', // 29. POST /communication-channels/{account_id}/manual-subscribe
  'create-traffic-source', // 8. POST /leadgentools/{id}/create-traffic-source
] as const;
export type WriteKind = (typeof WRITE_KINDS)[number];

export function isWriteKind(v: unknown): v is WriteKind {
  return typeof v === 'string' && (WRITE_KINDS as readonly string[]).includes(v);
}

/** What the row's target_id names, per operation; used in error messages and the CLI's options. */
export type TargetRole = 'person' | 'order' | 'channel' | 'leadgentool';

export interface KindInfo {
  target: TargetRole;
  /**
   * Whether sending twice leaves the same state as sending once. Only these are resent after a
   * failure that may have happened after the server did the work (timeout, dropped connection,
   * 5xx, a worker killed mid-request); the others become `ambiguous`.
   */
  idempotent: boolean;
  summary: string;
}

type Of<K extends WriteKind> = { kind: K; target: string; payload: NormalizedPayloads[K] };

export interface Operation<K extends WriteKind> extends KindInfo {
  send(client: LeelooClient, w: Of<K>, c: CallOptions): Promise<unknown>;
  /** Whether the API already shows the write's effect; absent when it cannot be read back. */
  verify?(client: LeelooClient, w: Of<K>, c: CallOptions): Promise<boolean>;
}

type Operations = { [K in WriteKind]: Operation<K> };

/** Person objects carry tag names (docs/leeloo-api.md), so a tag is checked by the name it had when enqueued. */
async function personTags(client: LeelooClient, id: string, c: CallOptions): Promise<string[]> {
  const { person } = await client.getPerson(id, [], c);
  return Array.isArray(person.tags) ? person.tags.map(String) : [];
}

export const OPERATIONS: Operations = {
  'add-tag': {
    target: 'person', idempotent: true, summary: 'add a tag (name or id) to a person',
    send: (client, w, c) => client.addTag(w.target, w.payload.tag_id, c),
    verify: async (client, w, c) => w.payload.tag_name !== null && (await personTags(client, w.target, c)).includes(w.payload.tag_name),
  },
  'remove-tag': {
    target: 'person', idempotent: true, summary: 'remove a tag (name or id) from a person',
    send: (client, w, c) => client.removeTag(w.target, w.payload.tag_id, c),
    verify: async (client, w, c) => w.payload.tag_name !== null && !(await personTags(client, w.target, c)).includes(w.payload.tag_name),
  },
  // A PUT, but every call stores another comment (docs: add-comment answers a new comment id).
  'add-comment': { target: 'person', idempotent: false, summary: 'add a comment to a person', send: (client, w, c) => client.addComment(w.target, w.payload.text, c) },
  'update-person': {
    target: 'person', idempotent: true, summary: "set a person's phone, email or custom fields",
    send: (client, w, c) => client.updatePerson(w.target, w.payload, c),
    async verify(client, w, c) {
      const { person } = await client.getPerson(w.target, [], c);
      const p = w.payload;
      if (p.phone !== undefined && person.phone !== p.phone) return false;
      if (p.email !== undefined && person.email !== p.email) return false;
      const fields = Array.isArray(person.custom_fields) ? (person.custom_fields as { name?: unknown; value?: unknown }[]) : [];
      return (p.custom_fields ?? []).every((cf) => fields.some((x) => x.name === cf.name && String(x.value) === cf.value));
    },
  },
  'create-person': {
    target: 'leadgentool', idempotent: false, summary: 'create a person through a leadgentool',
    send: (client, w, c) => client.createPerson({ ...w.payload, leadgentool_id: w.target }, c),
  },
  'add-sms-connection': {
    target: 'leadgentool', idempotent: false, summary: 'add SMS contacts through a leadgentool and connection',
    send: (client, w, c) => client.addSmsConnection({ ...w.payload, leadgentool_id: w.target }, c),
  },
  'update-order': {
    target: 'order', idempotent: true, summary: 'resolve or reject a MANUAL order',
    send: (client, w, c) => client.updateOrder(w.target, w.payload, c),
    async verify(client, w, c) {
      const o = await client.getOrder(w.target, c);
      const p = w.payload;
      return o.status === p.status && (p.price === undefined || Number(o.price) === p.price) && (p.currency === undefined || o.currency === p.currency);
    },
  },
  'create-order': {
    target: 'person', idempotent: false, summary: 'create a manual order for a person',
    send: (client, w, c) => client.createOrder({ ...w.payload, personId: w.target }, c),
  },
  'send-message': {
    target: 'channel', idempotent: false, summary: 'send a text message to a channel',
    send: (client, w, c) => client.sendMessage({ account_id: w.target, text: w.payload.text }, c),
  },
  'send-template': {
    target: 'channel', idempotent: false, summary: 'send a message template to a channel',
    send: (client, w, c) => client.sendTemplate({ account_id: w.target, template_id: w.payload.template_id, variables: w.payload.variables }, c),
  },
  'manual-subscribe': {
    target: 'channel', idempotent: true, summary: 'subscribe a channel to a tunnel block',
    send: (client, w, c) => client.manualSubscribe(w.target, w.payload, c),
  },
  'create-traffic-source': {
    target: 'leadgentool', idempotent: false, summary: 'create a traffic source in a leadgentool',
    send: (client, w, c) => client.createTrafficSource(w.target, w.payload, c),
  },
};

/** Target, idempotency and summary of each operation (the CLI's options, error messages, the worker's resend rule). */
export const KIND_INFO: Readonly<Record<WriteKind, KindInfo>> = OPERATIONS;

export function operationOf(w: NormalizedWrite): Operation<WriteKind> {
  return OPERATIONS[w.kind] as unknown as Operation<WriteKind>;
}

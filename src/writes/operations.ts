/**
 * How each operation is sent with the API client, and, for idempotent ones whose effect can be
 * read back, how to check whether an attempt with an unknown outcome already took effect (so
 * it is not sent a second time).
 */
import type { CallOptions, LeelooClient } from '../leeloo/client.js';
import type { WriteKind } from './kinds.js';
import type { NormalizedPayloads, NormalizedWrite } from './validate.js';

type Of<K extends WriteKind> = { kind: K; target: string; payload: NormalizedPayloads[K] };

export interface Operation<K extends WriteKind> {
  send(client: LeelooClient, w: Of<K>, c: CallOptions): Promise<unknown>;
  /** Whether the API already shows the write's effect; absent when it cannot be read back. */
  verify?(client: LeelooClient, w: Of<K>, c: CallOptions): Promise<boolean>;
}

type Operations = { [K in WriteKind]: Operation<K> };

/** Person objects carry tag names (leeloo-api.md), so a tag is checked by the name it had when enqueued. */
async function personTags(client: LeelooClient, id: string, c: CallOptions): Promise<string[]> {
  const { person } = await client.getPerson(id, [], c);
  return Array.isArray(person.tags) ? person.tags.map(String) : [];
}

export const OPERATIONS: Operations = {
  'add-tag': {
    send: (client, w, c) => client.addTag(w.target, w.payload.tag_id, c),
    verify: async (client, w, c) => w.payload.tag_name !== null && (await personTags(client, w.target, c)).includes(w.payload.tag_name),
  },
  'remove-tag': {
    send: (client, w, c) => client.removeTag(w.target, w.payload.tag_id, c),
    verify: async (client, w, c) => w.payload.tag_name !== null && !(await personTags(client, w.target, c)).includes(w.payload.tag_name),
  },
  'add-comment': { send: (client, w, c) => client.addComment(w.target, w.payload.text, c) },
  'update-person': {
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
  'create-person': { send: (client, w, c) => client.createPerson({ ...w.payload, leadgentool_id: w.target }, c) },
  'add-sms-connection': { send: (client, w, c) => client.addSmsConnection({ ...w.payload, leadgentool_id: w.target }, c) },
  'update-order': {
    send: (client, w, c) => client.updateOrder(w.target, w.payload, c),
    async verify(client, w, c) {
      const o = await client.getOrder(w.target, c);
      const p = w.payload;
      return o.status === p.status && (p.price === undefined || Number(o.price) === p.price) && (p.currency === undefined || o.currency === p.currency);
    },
  },
  'create-order': { send: (client, w, c) => client.createOrder({ ...w.payload, personId: w.target }, c) },
  'send-message': { send: (client, w, c) => client.sendMessage({ account_id: w.target, text: w.payload.text }, c) },
  'send-template': {
    send: (client, w, c) => client.sendTemplate({ account_id: w.target, template_id: w.payload.template_id, variables: w.payload.variables }, c),
  },
  'manual-subscribe': { send: (client, w, c) => client.manualSubscribe(w.target, w.payload, c) },
  'create-traffic-source': { send: (client, w, c) => client.createTrafficSource(w.target, w.payload, c) },
};

export function operationOf(w: NormalizedWrite): Operation<WriteKind> {
  return OPERATIONS[w.kind] as unknown as Operation<WriteKind>;
}

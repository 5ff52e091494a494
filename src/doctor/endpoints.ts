import type { z } from 'zod';
import type { Page } from '../leeloo/endpoints.js';
import {
  accountDetailSchema,
  accountListItemSchema,
  channelSchema,
  chatMessageSchema,
  connectionSchema,
  messageTemplateSchema,
  orderDetailSchema,
  orderListItemSchema,
  personDetailSchema,
  personListItemSchema,
  tagSchema,
  templateCategorySchema,
  tunnelSchema,
  tunnelStatsSchema,
  userSchema,
} from '../leeloo/schemas.js';
import { BudgetExhausted, answerOf, type Check, type DoctorContext } from './types.js';

export interface EndpointResult {
  route: string;
  ok: boolean;
  /** `skipped`: nothing to ask it about (e.g. no tunnel to read). */
  answer: string;
  /** Top-level fields the response's objects carry that our schemas do not name. */
  unknownFields: string[];
}

type Shape = z.ZodObject<z.ZodRawShape>;

/** Keys of `items` that `schema` (a loose object: unknown keys are kept) does not declare. */
export function unknownKeys(items: readonly unknown[], schema: Shape): string[] {
  const known = new Set(Object.keys(schema.shape));
  const out = new Set<string>();
  for (const it of items) {
    if (it && typeof it === 'object' && !Array.isArray(it)) for (const k of Object.keys(it)) if (!known.has(k)) out.add(k);
  }
  return [...out].sort();
}

/**
 * Every read endpoint once (20 requests): it must answer and parse. The ids for the detail
 * routes come from the lists, so detail routes are asked about records that exist.
 */
export async function checkEndpoints(dc: DoctorContext): Promise<{ check: Check; endpoints: EndpointResult[] }> {
  const c = dc.client;
  const out: EndpointResult[] = [];
  const range = { from: dc.startDate, to: dc.tomorrow, dateFormat: 'date' as const };
  const one = async (route: string, schema: Shape, run: (() => Promise<unknown[]>) | null) => {
    if (!run) {
      out.push({ route, ok: true, answer: 'skipped (no record to ask about)', unknownFields: [] });
      return;
    }
    try {
      const items = await run();
      out.push({ route, ok: true, answer: `200, ${items.length} object${items.length === 1 ? '' : 's'}`, unknownFields: unknownKeys(items, schema) });
    } catch (err) {
      if (err instanceof BudgetExhausted) throw err;
      out.push({ route, ok: false, answer: answerOf(err), unknownFields: [] });
    }
  };
  const s = dc.seen;
  // One page of a list; `keep` notes what later checks need (an id, the page).
  const listed = async <T>(page: () => Promise<Page<T>>, keep: (p: Page<T>) => unknown) => {
    const p = await dc.call(page);
    keep(p);
    return p.items;
  };
  await one('GET /api/v2/people', personListItemSchema, () => listed(() => c.peoplePage(range, { limit: 20 }), (p) => ((s.people = p), (s.personId = p.items[0]?.id))));
  await one('GET /api/v2/people/:id', personDetailSchema, s.personId ? async () => [(await dc.call(() => c.getPerson(s.personId!))).person] : null);
  await one('GET /api/v2/communication-channels', channelSchema, async () => {
    const p = await dc.call(() => c.channelsPage(range, { limit: 20 }));
    s.channels = p;
    s.channelId = p.items[0]?.id;
    s.channelPersonId = p.items[0]?.person_id ?? undefined;
    return p.items;
  });
  const ch = s.channelId;
  await one('GET /api/v2/communication-channels/:id/person', personDetailSchema, ch ? async () => [await dc.call(() => c.getChannelPerson(ch))] : null);
  await one('GET /api/v2/communication-channels/:id/chat-messages', chatMessageSchema, ch ? async () => {
    const p = await dc.call(() => c.chatMessagesPage(ch, { limit: 20 }));
    s.chat = p;
    return p.items;
  } : null);
  await one('GET /api/v2/orders', orderListItemSchema, () => listed(() => c.ordersPage({ limit: 5 }), (p) => (s.orderId = p.items[0]?.id)));
  await one('GET /api/v2/orders/:id', orderDetailSchema, s.orderId ? async () => [await dc.call(() => c.getOrder(s.orderId!))] : null);
  await one('GET /api/v2/tags', tagSchema, () => dc.call(() => c.listTags()));
  await one('GET /api/v2/tunnels', tunnelSchema, () => listed(() => c.tunnelsPage({ limit: 5 }), (p) => (s.tunnelId = p.items[0]?.id)));
  await one('GET /api/v2/tunnels/:id', tunnelSchema, s.tunnelId ? async () => [(await dc.call(() => c.getTunnel(s.tunnelId!))).tunnel] : null);
  await one('GET /api/v2/tunnels/stats', tunnelStatsSchema, () => dc.call(() => c.getAllTunnelStats()));
  await one('GET /api/v2/tunnels/:id/stats', tunnelStatsSchema, s.tunnelId ? () => dc.call(() => c.getTunnelStats(s.tunnelId!)) : null);
  await one('GET /api/v2/users', userSchema, () => listed(() => c.usersPage({ limit: 5 }), (p) => (s.userId = p.items[0]?.id)));
  await one('GET /api/v2/users/:id', userSchema, s.userId ? async () => [await dc.call(() => c.getUser(s.userId!))] : null);
  await one('GET /api/v2/connections', connectionSchema, () => dc.call(() => c.listConnections()));
  let categoryId: string | undefined;
  await one('GET /api/v2/categories/templates', templateCategorySchema, async () => {
    const list = await dc.call(() => c.listTemplateCategories());
    categoryId = list[0]?.id;
    return list;
  });
  await one('GET /api/v2/categories/templates/:id', messageTemplateSchema, categoryId ? () => dc.call(() => c.listTemplates(categoryId!)) : null);
  let accountId: string | undefined;
  await one('GET /api/v1/accounts', accountListItemSchema, () => listed(() => c.accountsPage({}, { limit: 5 }), (p) => (accountId = p.items[0]?.id)));
  await one('GET /api/v1/accounts/:id', accountDetailSchema, accountId ? async () => [(await dc.call(() => c.getAccount(accountId!))).account] : null);
  await one('GET /api/v1/accounts/:id/chat-messages', chatMessageSchema, accountId ? async () => (await dc.call(() => c.accountChatMessagesPage(accountId!, { limit: 5 }))).items : null);

  const failed = out.filter((e) => !e.ok);
  const unknown = out.filter((e) => e.unknownFields.length > 0);
  const fields = unknown.reduce((n, e) => n + e.unknownFields.length, 0);
  const detail =
    (failed.length === 0 ? `all ${out.length} read endpoints answer and parse` : `${failed.length} of ${out.length} fail: ${failed.map((e) => `${e.route} (${e.answer})`).join(', ')}`) +
    (fields === 0 ? '; no unknown fields' : `; ${fields} unknown field${fields === 1 ? '' : 's'}: ${unknown.map((e) => `${e.route.replace(/^GET \/api\//, '')}: ${e.unknownFields.join(', ')}`).join('; ')}`);
  return {
    check: {
      name: 'endpoints',
      ok: failed.length === 0,
      detail,
      action: failed.length === 0 ? 'unknown fields are kept in the raw columns' : 'the streams of the failing endpoints will fail',
    },
    endpoints: out,
  };
}

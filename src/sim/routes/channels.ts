import { formatError, textField, type Body } from '../http.js';
import { messagesOf } from '../lazy.js';
import type { Channel, MessageJson } from '../model.js';
import { appendMessage, eventTime, manualSubscribe } from '../mutate.js';
import { channelListItem, parseInclude, personDetail } from '../render.js';
import { bodyId, dateParam, filteredPage, found, listAnswer, ok, pageSize, paging, pathId, slicePage, type Ctx, type Route } from './common.js';

/**
 * GET /communication-channels: filter[last_message][from]/[to] optional here, inclusive.
 * Channels of people who never wrote (neverWrote knob) have no lastMessageTime: not listed.
 */
function listChannels(ctx: Ctx): unknown {
  const from = dateParam(ctx.query, 'from', false, ctx.knobs.datePrecision);
  const to = dateParam(ctx.query, 'to', false, ctx.knobs.datePrecision);
  const [start, end] = ctx.w.channelsByLmt.window(from, to);
  if (ctx.w.neverWrote > 0) return filteredPage(ctx, ctx.w.channelsByLmt.items, start, end, (c) => !ctx.w.isSilentChannel(c), channelListItem);
  return slicePage(ctx, ctx.w.channelsByLmt.items, start, end, channelListItem);
}

function channel(ctx: Ctx): Channel {
  return found(ctx.w.channel(pathId(ctx, 'account_id')));
}

/** GET /communication-channels/{account_id}/person: the person detail; `included` is {} without ?include. */
function channelPerson(ctx: Ctx): unknown {
  const d = personDetail(ctx.w, channel(ctx).person, parseInclude(ctx.query.getAll('include')));
  return { data: d.data, included: d.included, status: 1 };
}

/** Chat history page (v2 and v1): newest first unless the messagesOrder knob says otherwise. */
export function chatPage(ctx: Ctx): unknown {
  const c = channel(ctx);
  const history = messagesOf(ctx.w, c);
  const { limit, offset } = paging(ctx.query);
  const n = history.length;
  const from = Math.min(n, offset);
  const to = Math.min(n, from + pageSize(ctx, limit));
  const newest = ctx.knobs.messagesOrder === 'newest';
  // The history's own objects, not copies: a route's answer is serialised at once and never
  // kept (server.ts), so nothing can change them through it.
  const data: MessageJson[] = [];
  for (let i = from; i < to; i++) data.push(history[newest ? n - 1 - i : i] as MessageJson);
  return listAnswer(data, limit, offset, n, ctx.knobs.claimTotalCount);
}

function manualSubscribeRoute(ctx: Ctx): unknown {
  const id = pathId(ctx, 'account_id');
  const tunnelId = bodyId(ctx.body, 'tunnel_id') as string;
  // Blocks are not listable through the API, so any well-formed block id is accepted.
  bodyId(ctx.body, 'tunnel_block_id');
  const c = found(ctx.w.channel(id));
  const tunnel = found(ctx.w.tunnelsById.get(tunnelId));
  manualSubscribe(ctx.w, c, tunnel, eventTime(c.person.updatedAt));
  return ok();
}

function sendMessage(ctx: Ctx): unknown {
  const id = bodyId(ctx.body, 'account_id') as string;
  const text = textField(ctx.body, 'text');
  if (text === undefined) throw formatError({ text: 'REQUIRED' });
  const c = found(ctx.w.channel(id));
  appendMessage(ctx.w, c, 'YOUR_MESSAGE', text, ctx.w.apiUserId, eventTime(c.lmt));
  return ok();
}

/** `variables` as a JSON object, a JSON string of one, or form keys `variables[key]`. */
function variables(body: Body): Record<string, string> {
  const out: Record<string, string> = {};
  let v = body.variables;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v) as unknown;
    } catch {
      throw formatError({ variables: 'INVALID' });
    }
  }
  if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v))) throw formatError({ variables: 'INVALID' });
  for (const [k, x] of Object.entries((v ?? {}) as Record<string, unknown>)) out[k] = String(x);
  for (const [k, x] of Object.entries(body)) {
    const m = /^variables\[(.+)\]$/.exec(k);
    if (m) out[m[1] as string] = String(x);
  }
  return out;
}

/** Sends the template's text, `{key}` replaced by `variables` (unknown keys stay as written). */
function sendTemplate(ctx: Ctx): unknown {
  const id = bodyId(ctx.body, 'account_id') as string;
  const templateId = bodyId(ctx.body, 'template_id') as string;
  const vars = variables(ctx.body);
  const c = found(ctx.w.channel(id));
  const tpl = found(ctx.w.templatesById.get(templateId));
  const text = tpl.text.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);
  appendMessage(ctx.w, c, 'YOUR_MESSAGE', text, ctx.w.apiUserId, eventTime(c.lmt));
  return ok();
}

export const channelRoutes: Route[] = [
  { method: 'GET', template: '/api/v2/communication-channels', list: true, handle: listChannels },
  { method: 'GET', template: '/api/v2/communication-channels/:id/person', handle: channelPerson },
  { method: 'GET', template: '/api/v2/communication-channels/:id/chat-messages', list: true, handle: chatPage },
  { method: 'POST', template: '/api/v2/communication-channels/:id/manual-subscribe', write: true, handle: manualSubscribeRoute },
  { method: 'POST', template: '/api/v2/messages/send-message', write: true, handle: sendMessage },
  { method: 'POST', template: '/api/v2/messages/send-template', write: true, handle: sendTemplate },
];

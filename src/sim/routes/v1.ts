import type { Channel } from '../model.js';
import { accountDetail, accountListItem, parseInclude } from '../render.js';
import { chatPage } from './channels.js';
import { filteredPage, found, pathId, slicePage, type Ctx, type Route } from './common.js';

/**
 * v1 GET /accounts: the channels, newest lastMessageTime first. filter[tags]=a,b is a comma list
 * (docs), matched like v2's filter[tags]: any of the tags. A tag whose name contains a comma
 * (`Клиент, опт`) therefore cannot be asked for here; that is the legacy API's limit.
 */
function listAccounts(ctx: Ctx): unknown {
  const items = ctx.w.channelsByLmt.items;
  const tags = ctx.query
    .getAll('filter[tags]')
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const render = (c: Channel) => accountListItem(c, ctx.w.isSilentChannel(c));
  if (tags.length === 0) return slicePage(ctx, items, 0, items.length, render);
  return filteredPage(ctx, items, 0, items.length, (c: Channel) => c.person.tags.some((t) => tags.includes(t)), render);
}

function getAccount(ctx: Ctx): unknown {
  const c = found(ctx.w.channel(pathId(ctx, 'account_id')));
  const d = accountDetail(ctx.w, c, parseInclude(ctx.query.getAll('include')));
  return { data: d.data, included: d.included, status: 1 };
}

export const v1Routes: Route[] = [
  { method: 'GET', template: '/api/v1/accounts', list: true, handle: listAccounts },
  { method: 'GET', template: '/api/v1/accounts/:id', handle: getAccount },
  { method: 'GET', template: '/api/v1/accounts/:id/chat-messages', list: true, handle: chatPage },
];

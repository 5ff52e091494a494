import { formatError, textField } from '../http.js';
import { addTrafficSource } from '../generate.js';
import { eventTime } from '../mutate.js';
import { tunnelDetail, tunnelListItem, userJson } from '../render.js';
import { sumStats, tunnelsNewestFirst, usersNewestFirst } from '../store.js';
import { found, pathId, slicePage, type Ctx, type Route } from './common.js';

function listUsers(ctx: Ctx): unknown {
  const users = usersNewestFirst(ctx.w);
  return slicePage(ctx, users, 0, users.length, userJson);
}

function listTunnels(ctx: Ctx): unknown {
  const tunnels = tunnelsNewestFirst(ctx.w);
  return slicePage(ctx, tunnels, 0, tunnels.length, tunnelListItem);
}

/** GET /tunnels/{id}: `linked` only with ?include=leadgentools; data.links always. */
function getTunnel(ctx: Ctx): unknown {
  const t = found(ctx.w.tunnelsById.get(pathId(ctx, 'tunnel_id')));
  const d = tunnelDetail(t);
  const include = new Set(ctx.query.getAll('include').flatMap((v) => v.split(',').map((s) => s.trim())));
  return include.has('leadgentools') ? { status: 1, data: d.data, linked: d.linked } : { status: 1, data: d.data };
}

function createTrafficSource(ctx: Ctx): unknown {
  const id = pathId(ctx, 'leadgentool_id');
  const name = textField(ctx.body, 'name');
  if (name === undefined) throw formatError({ name: 'REQUIRED' });
  const description = textField(ctx.body, 'description') ?? '';
  const lgt = found(ctx.w.leadgentoolsById.get(id));
  return { data: addTrafficSource(ctx.w, ctx.rng, lgt, name, description, eventTime()).json, status: 1 };
}

export const catalogRoutes: Route[] = [
  { method: 'GET', template: '/api/v2/tags', handle: (ctx) => ({ status: 1, data: ctx.w.tags.map((t) => ({ id: t.id, name: t.name })) }) },
  { method: 'GET', template: '/api/v2/users', list: true, handle: listUsers },
  { method: 'GET', template: '/api/v2/users/:id', handle: (ctx) => ({ data: userJson(found(ctx.w.usersById.get(pathId(ctx, 'user_id')))), status: 1 }) },
  { method: 'GET', template: '/api/v2/tunnels', list: true, handle: listTunnels },
  { method: 'GET', template: '/api/v2/tunnels/stats', handle: (ctx) => ({ status: 1, data: [sumStats(ctx.w.tunnels.map((t) => t.stats))] }) },
  { method: 'GET', template: '/api/v2/tunnels/:id', handle: getTunnel },
  {
    method: 'GET',
    template: '/api/v2/tunnels/:id/stats',
    handle: (ctx) => ({ status: 1, data: [{ ...found(ctx.w.tunnelsById.get(pathId(ctx, 'tunnel_id'))).stats }] }),
  },
  {
    method: 'GET',
    template: '/api/v2/connections',
    handle: (ctx) => ({ data: { connections: ctx.w.connections.map((c) => ({ id: c.id, type: c.type, name: c.name })) }, status: 1 }),
  },
  {
    method: 'GET',
    template: '/api/v2/categories/templates',
    handle: (ctx) => ({ data: { categories: ctx.w.categories.map((c) => ({ id: c.id, name: c.name })) }, status: 1 }),
  },
  {
    method: 'GET',
    template: '/api/v2/categories/templates/:id',
    handle: (ctx) => {
      const c = found(ctx.w.categoriesById.get(pathId(ctx, 'category_id')));
      return { data: { templates: c.templates.map((t) => ({ id: t.id, message_name: t.message_name })) }, status: 1 };
    },
  },
  { method: 'POST', template: '/api/v2/leadgentools/:id/create-traffic-source', write: true, handle: createTrafficSource },
];

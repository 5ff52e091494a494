import { tunnels } from '../../db/schema.js';
import { firstPage, pagedRefreshStream } from '../kinds.js';
import { rawJson, str, ts } from '../map.js';

export default pagedRefreshStream({
  name: 'tunnels',
  description: 'Tunnels (GET /tunnels); their detail payload is stored by the leadgentools stream.',
  table: tunnels,
  columns: ['id', 'name', 'createdAt', 'updatedAt', 'raw', 'syncedAt'],
  page: (c, offset, limit, signal) => firstPage(c.tunnelPages({ startOffset: offset, pageSize: limit, signal }), offset),
  map: (t, syncedAt) => ({ id: t.id, name: str(t.name), createdAt: ts(t.createdAt), updatedAt: ts(t.updatedAt), raw: rawJson(t), syncedAt }),
});

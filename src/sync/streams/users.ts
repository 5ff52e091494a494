import { users } from '../../db/schema.js';
import { firstPage, pagedRefreshStream } from '../kinds.js';
import { rawJson, str, ts } from '../map.js';

export default pagedRefreshStream({
  name: 'users',
  description: 'Platform users: the company staff (GET /users).',
  table: users,
  columns: ['id', 'name', 'createdAt', 'updatedAt', 'raw', 'syncedAt'],
  page: (c, offset, limit, signal) => firstPage(c.userPages({ startOffset: offset, pageSize: limit, signal }), offset),
  map: (u, syncedAt) => ({ id: u.id, name: str(u.name), createdAt: ts(u.createdAt), updatedAt: ts(u.updatedAt), raw: rawJson(u), syncedAt }),
});

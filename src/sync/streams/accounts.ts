import { accounts } from '../../db/schema.js';
import { firstPage, pagedRefreshStream } from '../kinds.js';
import { json, rawJson, str, ts } from '../map.js';

export default pagedRefreshStream({
  name: 'accounts',
  description: 'Legacy v1 accounts (GET /api/v1/accounts); off unless named in --streams or SYNC_ACCOUNTS_V1=true.',
  table: accounts,
  defaultEnabled: false,
  resumable: true,
  columns: ['id', 'name', 'tags', 'source', 'botStatus', 'lastMessageTime', 'createdAt', 'raw', 'syncedAt'],
  page: (c, offset, limit, signal) => firstPage(c.accountPages({}, { startOffset: offset, pageSize: limit, signal }), offset),
  map: (a, syncedAt) => ({
    id: a.id,
    name: str(a.name),
    tags: json(Array.isArray(a.tags) ? a.tags : []),
    source: str(a.from),
    botStatus: str(a.botStatus),
    lastMessageTime: ts(a.lastMessageTime),
    createdAt: ts(a.createdAt),
    raw: rawJson(a),
    syncedAt,
  }),
});

import { accounts } from '../../db/schema.js';
import type { InsertRow } from '../../db/store/types.js';
import type { AccountListItem } from '../../leeloo/schemas.js';
import { pagedRefreshStream } from '../stream-kinds.js';
import { channelFields, json, rawJson } from '../map.js';

export const toAccountRow = (a: AccountListItem, syncedAt: string): InsertRow<typeof accounts> => ({
  id: a.id,
  tags: json(Array.isArray(a.tags) ? a.tags : []),
  ...channelFields(a),
  raw: rawJson(a),
  syncedAt,
});

export default pagedRefreshStream({
  name: 'accounts',
  description: 'Legacy v1 accounts (GET /api/v1/accounts); off unless named in --streams or SYNC_ACCOUNTS_V1=true.',
  table: accounts,
  // The legacy stream runs by default only when asked to.
  enabledByDefault: (env) => env.SYNC_ACCOUNTS_V1,
  resumable: true,
  page: (c, req) => c.accountsPage({}, req),
  map: toAccountRow,
});

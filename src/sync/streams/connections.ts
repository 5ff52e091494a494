import { connections } from '../../db/schema.js';
import type { InsertRow } from '../../db/store/types.js';
import type { Connection } from '../../leeloo/schemas.js';
import { snapshotStream } from '../stream-kinds.js';
import { rawJson, str } from '../map.js';

export const toConnectionRow = (t: Connection, syncedAt: string): InsertRow<typeof connections> => ({ id: t.id, type: str(t.type), name: str(t.name), raw: rawJson(t), syncedAt });

export default snapshotStream({
  name: 'connections',
  description: 'Connections: the company bots per messenger (GET /connections).',
  table: connections,
  fetch: (c, signal) => c.listConnections({ signal }),
  map: toConnectionRow,
});

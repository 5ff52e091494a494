import { connections } from '../../db/schema.js';
import { snapshotStream } from '../kinds.js';
import { rawJson, str } from '../map.js';

export default snapshotStream({
  name: 'connections',
  description: 'Connections: the company bots per messenger (GET /connections).',
  table: connections,
  columns: ['id', 'type', 'name', 'raw', 'syncedAt'],
  fetch: (c, signal) => c.listConnections({ signal }),
  map: (t, syncedAt) => ({ id: t.id, type: str(t.type), name: str(t.name), raw: rawJson(t), syncedAt }),
});

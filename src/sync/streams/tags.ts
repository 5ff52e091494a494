import { tags } from '../../db/schema.js';
import { snapshotStream } from '../kinds.js';
import { rawJson, str } from '../map.js';

export default snapshotStream({
  name: 'tags',
  description: 'Tags {id, name} (GET /tags); add-tag/remove-tag take these ids while people list names.',
  table: tags,
  columns: ['id', 'name', 'raw', 'syncedAt'],
  fetch: (c, signal) => c.listTags({ signal }),
  map: (t, syncedAt) => ({ id: t.id, name: str(t.name) ?? '', raw: rawJson(t), syncedAt }),
});

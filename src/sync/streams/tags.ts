import { tags } from '../../db/schema.js';
import type { InsertRow } from '../../db/store/types.js';
import type { Tag } from '../../leeloo/schemas.js';
import { snapshotStream } from '../stream-kinds.js';
import { rawJson, str } from '../map.js';

export const toTagRow = (t: Tag, syncedAt: string): InsertRow<typeof tags> => ({ id: t.id, name: str(t.name) ?? '', raw: rawJson(t), syncedAt });

export default snapshotStream({
  name: 'tags',
  description: 'Tags {id, name} (GET /tags); add-tag/remove-tag take these ids while people list names.',
  table: tags,
  fetch: (c, signal) => c.listTags({ signal }),
  map: toTagRow,
});

import { templateCategories } from '../../db/schema.js';
import { snapshotStream } from '../kinds.js';
import { rawJson, str } from '../map.js';

export default snapshotStream({
  name: 'template_categories',
  description: 'Message template categories (GET /categories/templates).',
  table: templateCategories,
  columns: ['id', 'name', 'raw', 'syncedAt'],
  fetch: (c, signal) => c.listTemplateCategories({ signal }),
  map: (t, syncedAt) => ({ id: t.id, name: str(t.name), raw: rawJson(t), syncedAt }),
});

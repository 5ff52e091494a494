import { templateCategories } from '../../db/schema.js';
import { snapshotStream } from '../stream-kinds.js';
import { toNamedRow } from '../map.js';

export default snapshotStream({ name: 'template_categories', description: 'Message template categories (GET /categories/templates).', table: templateCategories, fetch: (c, signal) => c.listTemplateCategories({ signal }), map: toNamedRow });

import { messageTemplates } from '../../db/schema.js';
import { EntityUpserter } from '../../db/upsert.js';
import { perParentStream } from '../kinds.js';
import { rawJson, str } from '../map.js';

const upserters = new WeakMap<object, EntityUpserter>();

export default perParentStream({
  name: 'message_templates',
  description: 'Message templates of every category (GET /categories/templates/{category_id}).',
  dependsOn: ['template_categories'],
  parents: (ctx) => ctx.mirror.sqlite.prepare('SELECT id FROM template_categories ORDER BY id').all() as { id: string }[],
  fetch: (c, cat, signal) => c.listTemplates(cat.id, { signal }),
  write(ctx, s, cat, templates, syncedAt) {
    let up = upserters.get(ctx.mirror.db);
    if (!up) upserters.set(ctx.mirror.db, (up = new EntityUpserter(ctx.mirror.db, messageTemplates, { columns: ['id', 'categoryId', 'messageName', 'raw', 'syncedAt'] })));
    const r = up.upsert(templates.map((t) => ({ id: t.id, categoryId: cat.id, messageName: str(t.message_name), raw: rawJson(t), syncedAt })));
    s.counters.rowsInserted += r.inserted;
    s.counters.rowsUpdated += r.updated;
    return templates.map((t) => t.id);
  },
  prune: { table: 'message_templates', key: 'id' },
});

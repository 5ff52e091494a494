import { messageTemplates } from '../../db/schema.js';
import type { InsertRow } from '../../db/store/types.js';
import type { MessageTemplate } from '../../leeloo/schemas.js';
import { idsOf, perParentStream } from '../stream-kinds.js';
import { rawJson, str } from '../map.js';

export const toTemplateRow = (t: MessageTemplate, categoryId: string, syncedAt: string): InsertRow<typeof messageTemplates> => ({ id: t.id, categoryId, messageName: str(t.message_name), raw: rawJson(t), syncedAt });

export default perParentStream({
  name: 'message_templates',
  description: 'Message templates of every category (GET /categories/templates/{category_id}).',
  dependsOn: ['template_categories'],
  setup: (ctx) => ctx.store.entities(messageTemplates),
  parents: idsOf('template_categories'),
  fetch: (c, cat, signal) => c.listTemplates(cat.id, { signal }),
  async write(up, s, cat, templates, syncedAt) {
    const r = await up.upsert(templates.map((t) => toTemplateRow(t, cat.id, syncedAt)));
    s.counters.rowsInserted += r.inserted;
    s.counters.rowsUpdated += r.updated;
    return templates.map((t) => t.id);
  },
  prune: { table: 'message_templates', key: 'id' },
});

/**
 * What both backends' derived views share (src/db/views.ts for SQLite, src/db/views-pg.ts for
 * PostgreSQL): the naming of `people_custom_fields_wide`'s columns, its SQL (portable: a scalar
 * subquery per name), and which rollup table copies which view.
 *
 * Custom-field names are user data (any text, Cyrillic, emoji, duplicates differing in case), so
 * column names are sanitised and made unique; the view's SQL is a pure function of the sorted
 * set of names, so "has the set changed" is a comparison of that SQL with the one the view was
 * last built from, with no bookkeeping table.
 */
export const WIDE_VIEW = 'people_custom_fields_wide';
export const MAX_COLUMN_LENGTH = 48;

// Leeloo companies are mostly Ukrainian and Russian: their field names keep a readable column name.
const CYRILLIC: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'g', ґ: 'g', д: 'd', е: 'e', ё: 'e', є: 'ie', ж: 'zh', з: 'z', и: 'i', і: 'i', ї: 'i', й: 'i',
  к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch',
  ш: 'sh', щ: 'shch', ъ: '', ы: 'y', ь: '', э: 'e', ю: 'iu', я: 'ia',
};

/**
 * Lowercase, Cyrillic transliterated, accents dropped, every run of other characters becomes
 * `_`, `f_` before a leading digit, `field` when nothing is left, at most MAX_COLUMN_LENGTH.
 */
export function sanitizeColumnName(name: string): string {
  let s = name
    .toLowerCase()
    .replace(/[\u0400-\u04ff]/g, (c) => CYRILLIC[c] ?? c)
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (s === '') s = 'field';
  if (/^[0-9]/.test(s)) s = `f_${s}`;
  return s.slice(0, MAX_COLUMN_LENGTH).replace(/_+$/, '');
}

/**
 * Column names for `names` (in the order given): sanitised, then `_2`, `_3`, … on collisions
 * (case-insensitively, as SQLite compares identifiers), never `person_id`, never longer than
 * MAX_COLUMN_LENGTH.
 */
export function wideColumns(names: readonly string[]): { name: string; column: string }[] {
  const taken = new Set<string>(['person_id']);
  return names.map((name) => {
    const base = sanitizeColumnName(name);
    let column = base;
    for (let i = 2; taken.has(column); i++) {
      const suffix = `_${i}`;
      column = base.slice(0, MAX_COLUMN_LENGTH - suffix.length) + suffix;
    }
    taken.add(column);
    return { name, column };
  });
}

const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Names sorted by code point, so the same set always gives the same SQL. */
export function wideViewSql(names: readonly string[]): string {
  const sorted = [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const cols = wideColumns(sorted).map(
    ({ name, column }) =>
      `,\n  (SELECT cf.value FROM custom_fields cf WHERE cf.person_id = p.id AND cf.name = ${quoteLiteral(name)} ORDER BY cf.ordinal DESC LIMIT 1) AS "${column}"`,
  );
  return `CREATE VIEW "${WIDE_VIEW}" AS\nSELECT p.id AS person_id${cols.join('')}\nFROM people p\nWHERE p.deleted_at IS NULL`;
}

/** Each rollup table and the view it copies (same column names). */
export const ROLLUPS = [
  { table: 'rollup_messages_daily', view: 'messages_daily', columns: ['day', 'source', 'type', 'messages', 'channels'] },
  { table: 'rollup_funnel_daily', view: 'funnel_daily', columns: ['day', 'new_people', 'people_wrote', 'people_ordered'] },
  { table: 'rollup_orders_daily', view: 'orders_daily', columns: ['day', 'currency', 'status', 'orders', 'amount', 'revenue'] },
  { table: 'rollup_tag_membership', view: 'tag_membership', columns: ['tag', 'people'] },
] as const;

/**
 * What both backends' writers do alike with a batch of rows before writing it: the rows are
 * read by column key only in the writer modules, a batch is cut to fit the driver's parameter
 * limit, and a row repeated within one batch is written once.
 */

/** A row as the writers read it: by column key. */
export type AnyRow = Readonly<Record<string, unknown>>;

/** Rows per multi-row statement: at most 500, and never more parameters than the driver binds. */
export const rowsPerStatement = (columns: number, maxParameters: number) => Math.max(1, Math.min(500, Math.floor(maxParameters / columns)));

/**
 * Rows repeated within one batch (offset paging over live data can return a row twice): the last
 * occurrence wins, as it would with one statement per row.
 */
export function dedupeById(rows: readonly AnyRow[]): readonly AnyRow[] {
  const ids = new Set<unknown>();
  for (const r of rows) ids.add(r.id);
  if (ids.size === rows.length) return rows;
  const last = new Map<unknown, AnyRow>();
  for (const r of rows) last.set(r.id, r);
  return [...last.values()];
}

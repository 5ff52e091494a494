/**
 * The due queries of the sync's detail and history sweeps (src/sync/due.ts drives them), beside
 * the indexes that serve them (schema.ts, schema-pg.ts; test/db/due-plans.test.ts checks the
 * plans). Each sweep walks the due keys in id order with a keyset cursor, 256 at a time, and
 * starts again from the first while the list is still read: a plan that reads every due row, or
 * every row, for each batch makes a sync's cost grow with the square of the company's size.
 */
import { sql, type SQL } from 'drizzle-orm';

const p = (name: string) => sql.placeholder(name);

/**
 * Channels whose chat history is due. SQLite uses a partial index only when the query's WHERE
 * contains each of the index's terms as written (https://sqlite.org/partialindex.html, "Queries
 * Using Partial Indexes"), so the query and communication_channels_messages_due_idx share this text.
 */
export const CHANNEL_MESSAGES_DUE = 'last_message_time IS NOT NULL AND (messages_synced_lmt IS NULL OR last_message_time > messages_synced_lmt) AND deleted_at IS NULL';

/** Up to `limit` channels with due history after `after`, in id order (communication_channels_messages_due_idx). */
export const dueChannelsQuery = (): SQL =>
  sql`SELECT id, last_message_time AS lmt, messages_synced_lmt AS hwm FROM communication_channels
       WHERE ${sql.raw(CHANNEL_MESSAGES_DUE)} AND id > ${p('after')} ORDER BY id LIMIT ${p('limit')}`;

/**
 * Up to `limit` people or orders with due details after `after`, in id order: a range of
 * (details_synced_at, id) in {people,orders}_details_due_idx. On details_synced_at alone SQLite
 * read every due row and sorted them for each batch.
 */
export const dueDetailsQuery = (table: 'people' | 'orders'): SQL =>
  sql`SELECT id, raw FROM ${sql.identifier(table)} WHERE details_synced_at IS NULL AND deleted_at IS NULL AND id > ${p('after')} ORDER BY id LIMIT ${p('limit')}`;

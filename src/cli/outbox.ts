/** `leeloo-sync outbox [list|show|retry|cancel]`: watch and steer the write-backs. */
import { Command, Option } from 'commander';
import { ConfigError } from '../errors.js';
import { WRITE_STATUSES, type WriteStatus } from '../writes/statuses.js';
import { parseWhole, reportFatal } from './common.js';
import { printRow, withStore } from './outbox-rows.js';

function parseId(v: string): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) throw new ConfigError(`ID must be a write's number, e.g. 12 (got "${v}")`);
  return Number(v);
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function outboxCommand(): Command {
  const cmd = new Command('outbox').description('list the write-backs and their statuses; retry or cancel one');
  cmd
    .command('list', { isDefault: true })
    .description('newest writes first, with a count per status')
    .addOption(new Option('--status <status>', 'only this status').choices([...WRITE_STATUSES]))
    .option('--kind <operation>', 'only this operation')
    .option('--limit <n>', 'rows to show', '50')
    .option('--json', 'print JSON lines')
    .action(async (o: { status?: WriteStatus; kind?: string; limit: string; json?: boolean }) => {
      let limit: number;
      try {
        limit = parseWhole('--limit', o.limit, { min: 1, max: 1_000_000 })!;
      } catch (err) {
        reportFatal(err);
      }
      await withStore(async (store, { countWrites, listWrites }) => {
        const rows = await listWrites(store, { status: o.status, kind: o.kind, limit });
        if (o.json) {
          for (const r of rows) printRow(r, true);
          return;
        }
        const totals = new Map<string, number>();
        for (const c of await countWrites(store)) totals.set(c.status, (totals.get(c.status) ?? 0) + c.n);
        process.stdout.write(`${WRITE_STATUSES.map((s) => `${s} ${totals.get(s) ?? 0}`).join(' · ')}\n`);
        if (rows.length === 0) {
          process.stdout.write('  (no writes)\n');
          return;
        }
        process.stdout.write(`${pad('id', 7)} ${pad('kind', 22)} ${pad('target', 24)} ${pad('status', 10)} ${pad('tries', 5)} ${pad('updated', 24)} last error\n`);
        for (const r of rows) {
          process.stdout.write(
            `${pad(String(r.id), 7)} ${pad(r.kind, 22)} ${pad(r.target_id ?? '-', 24)} ${pad(r.status, 10)} ${pad(String(r.attempts), 5)} ${pad(r.updated_at, 24)} ${cut(r.last_error ?? '', 100)}\n`,
          );
        }
      });
    });
  cmd
    .command('show <id>')
    .description('one write with its payload and the API answer')
    .action(async (id: string) => {
      await withStore(async (store, { getWrite }) => {
        const row = await getWrite(store, parseId(id));
        if (!row) throw new ConfigError(`no write #${id} in the outbox`);
        process.stdout.write(`${JSON.stringify({ ...row, payload: safeJson(row.payload), api_response: safeJson(row.api_response) }, null, 2)}\n`);
      });
    });
  cmd
    .command('retry <id>')
    .description('send a failed, dead, ambiguous or cancelled write again (for an ambiguous one: after checking Leeloo)')
    .action((id: string) => withStore(async (store, { retryWrite }) => printRow(await retryWrite(store, parseId(id)), false)));
  cmd
    .command('cancel <id>')
    .description('do not send this write (an attempt already on its way still records its outcome)')
    .action((id: string) => withStore(async (store, { cancelWrite }) => printRow(await cancelWrite(store, parseId(id)), false)));
  return cmd;
}

function safeJson(s: string | null): unknown {
  if (s === null) return null;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return s;
  }
}

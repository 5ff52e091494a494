/**
 * `leeloo-sync enqueue <operation> …` and `leeloo-sync outbox [list|show|retry|cancel]`. Both only
 * touch SQLite: the worker's relay picks new rows up, so these work with Redis and the worker down.
 */
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { EXIT_USAGE, parseWhole, reportFatal } from '../cli/common.js';
import type { Mirror } from '../db/connection.js';
import { ConfigError, ValidationError } from '../errors.js';
import { collect, defined, SPECS, type Opts, type Spec } from './cli-specs.js';
import { KIND_INFO } from './operations.js';
import { WRITE_STATUSES, type WriteStatus } from './statuses.js';
import type { WriteRequest } from './validate.js';
import type { OutboxRow } from './outbox.js';

// The store, its validators (zod) and the database driver load when a command runs, not when the
// commands are defined (`leeloo-sync --help`).
type Store = typeof import('./outbox.js');

/** The CLI names its options in errors: "--person: must be a 24-hex id". */
function asOptionError(err: ValidationError, spec: Spec): ConfigError {
  const detail = err.message.slice(err.field.length + 2);
  const m = /^([A-Za-z_]+)(.*)$/.exec(err.field);
  let field = err.field;
  if (field === 'payload') return new ConfigError(`${spec.kind}: ${detail.replace(/\b(phone|email|custom_fields)\b/g, (f) => spec.fields?.[f] ?? `--${f}`)}`);
  if (err.field.endsWith('(target_id)')) field = `--${spec.target}`;
  else if (m) {
    const head = m[1] as string;
    field = `${spec.fields?.[head] ?? `--${head.replace(/_/g, '-')}`}${m[2]}`;
  }
  return new ConfigError(`${field}: ${detail}`);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

async function openExisting(): Promise<Mirror> {
  const [{ loadConfig, sqlitePath }, { openMirror }] = await Promise.all([import('../config.js'), import('../db/connection.js')]);
  const env = loadConfig(process.env);
  const path = sqlitePath(env.DATABASE_URL);
  if (path !== ':memory:' && !existsSync(path)) throw new ConfigError(`no mirror at ${path} yet: run \`leeloo-sync sync\` first`);
  return openMirror(path);
}

async function withMirror(fn: (m: Mirror, store: Store) => void): Promise<void> {
  let mirror: Mirror | undefined;
  try {
    const store = await import('./outbox.js');
    mirror = await openExisting();
    fn(mirror, store);
  } catch (err) {
    mirror?.close();
    reportFatal(err);
  }
  mirror?.close();
}

function printRow(r: OutboxRow, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else process.stdout.write(`write #${r.id} ${r.kind} ${r.target_id ?? ''}: ${r.status}${r.last_error ? ` (${r.last_error})` : ''}\n`);
}

/** Usage errors (unknown option, missing argument) exit 2 at every level, not commander's 1. */
function usageExits(cmd: Command): Command {
  cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE));
  for (const sub of cmd.commands) usageExits(sub);
  return cmd;
}

export function enqueueCommand(): Command {
  const cmd = new Command('enqueue').description(
    'request a write-back to Leeloo: validated now, stored in the outbox (outbound_writes) as pending, sent by the worker',
  );
  for (const spec of SPECS) {
    const sub = new Command(spec.kind).description(KIND_INFO[spec.kind].summary);
    for (const [flags, desc] of spec.options) {
      sub.addOption(/\(repeatable/.test(desc) ? new Option(flags, desc).argParser(collect) : new Option(flags, desc));
    }
    sub
      .option('--idempotency-key <key>', 'refuse this write if a write with the same key was requested before')
      .option('--json', 'print the stored row as JSON')
      .action(async (o: Opts) => {
        await withMirror((mirror, { enqueueWrite }) => {
          let row: OutboxRow;
          try {
            const req = { kind: spec.kind, target: o[spec.target], payload: defined(spec.payload(o)) } as unknown as WriteRequest;
            row = enqueueWrite(mirror, req, { idempotencyKey: str(o.idempotencyKey) });
          } catch (err) {
            throw err instanceof ValidationError ? asOptionError(err, spec) : err;
          }
          if (o.json) printRow(row, true);
          else process.stdout.write(`queued write #${row.id} (${row.kind} ${row.target_id}): pending — the worker sends it; watch with \`leeloo-sync outbox list\`\n`);
        });
      });
    cmd.addCommand(sub);
  }
  return usageExits(cmd);
}

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
      await withMirror((mirror, { countWrites, listWrites }) => {
        const rows = listWrites(mirror, { status: o.status, kind: o.kind, limit });
        if (o.json) {
          for (const r of rows) printRow(r, true);
          return;
        }
        const totals = new Map<string, number>();
        for (const c of countWrites(mirror)) totals.set(c.status, (totals.get(c.status) ?? 0) + c.n);
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
      await withMirror((mirror, { getWrite }) => {
        const row = getWrite(mirror, parseId(id));
        if (!row) throw new ConfigError(`no write #${id} in the outbox`);
        process.stdout.write(`${JSON.stringify({ ...row, payload: safeJson(row.payload), api_response: safeJson(row.api_response) }, null, 2)}\n`);
      });
    });
  cmd
    .command('retry <id>')
    .description('send a failed, dead, ambiguous or cancelled write again (for an ambiguous one: after checking Leeloo)')
    .action((id: string) => withMirror((mirror, { retryWrite }) => printRow(retryWrite(mirror, parseId(id)), false)));
  cmd
    .command('cancel <id>')
    .description('do not send this write (an attempt already on its way still records its outcome)')
    .action((id: string) => withMirror((mirror, { cancelWrite }) => printRow(cancelWrite(mirror, parseId(id)), false)));
  return usageExits(cmd);
}

function safeJson(s: string | null): unknown {
  if (s === null) return null;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return s;
  }
}

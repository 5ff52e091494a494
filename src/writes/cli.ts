/**
 * `leeloo-sync enqueue <operation> …` and `leeloo-sync outbox [list|show|retry|cancel]`. Both only
 * touch SQLite: the worker's relay picks new rows up, so these work with Redis and the worker down.
 */
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { reportFatal } from '../cli/common.js';
import { loadConfig, sqlitePath } from '../config.js';
import { openMirror, type Mirror } from '../db/connection.js';
import { ConfigError, ValidationError } from '../errors.js';
import { KIND_INFO, WRITE_STATUSES, type WriteKind, type WriteRequest, type WriteStatus } from './kinds.js';
import { cancelWrite, countWrites, enqueueWrite, getWrite, listWrites, retryWrite, type OutboxRow } from './store.js';

type Opts = Record<string, unknown>;

interface Spec {
  kind: WriteKind;
  /** commander option flags, then description. */
  options: [flags: string, description: string][];
  /** The option that gives target_id. */
  target: string;
  /** payload field → the option it came from, for error messages (target and same-named fields need none). */
  fields?: Record<string, string>;
  payload(o: Opts): Record<string, unknown>;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** `TYPE:name=value`, e.g. KEYWORD:city=Kyiv. */
function customField(s: string, i: number): { type: string; name: string; value: string } {
  const m = /^([A-Za-z]+):([^=]+)=(.*)$/s.exec(s);
  if (!m) throw new ValidationError(`--custom-field[${i}]`, `must look like TYPE:name=value, e.g. KEYWORD:city=Kyiv (got "${s}")`);
  return { type: (m[1] as string).toUpperCase(), name: (m[2] as string).trim(), value: m[3] as string };
}

/** `PHONE,NAME[,EMAIL]`; the name may contain commas, the email is the last part if it has an @. */
function contact(s: string): { name: string; phone: string; email?: string } {
  const parts = s.split(',');
  const phone = (parts.shift() ?? '').trim();
  let email: string | undefined;
  if (parts.length > 1 && (parts.at(-1) as string).includes('@')) email = (parts.pop() as string).trim();
  const out: { name: string; phone: string; email?: string } = { name: parts.join(',').trim(), phone };
  if (email !== undefined) out.email = email;
  return out;
}

function variables(list: string[] | undefined): Record<string, string> | undefined {
  if (!list) return undefined;
  const out: Record<string, string> = {};
  list.forEach((kv, i) => {
    const at = kv.indexOf('=');
    if (at <= 0) throw new ValidationError(`--var[${i}]`, `must look like key=value (got "${kv}")`);
    out[kv.slice(0, at)] = kv.slice(at + 1);
  });
  return out;
}

const ID = '<id>';
const SPECS: Spec[] = [
  ...(['add-tag', 'remove-tag'] as const).map(
    (kind): Spec => ({
      kind,
      options: [
        ['--person <id>', 'person id (required)'],
        ['--tag <name|id>', 'tag name (resolved through the mirrored tags table) or tag id (required)'],
      ],
      target: 'person',
      payload: (o) => ({ tag: o.tag }),
    }),
  ),
  {
    kind: 'add-comment',
    options: [
      ['--person <id>', 'person id (required)'],
      ['--text <text>', 'the comment (required)'],
    ],
    target: 'person',
    payload: (o) => ({ text: o.text }),
  },
  {
    kind: 'update-person',
    options: [
      ['--person <id>', 'person id (required)'],
      ['--phone <phone>', 'new phone: "+" and digits'],
      ['--email <email>', 'new email'],
      ['--custom-field <TYPE:name=value>', 'custom field to set, TYPE one of EMAIL, PHONE, DATE, KEYWORD, NUMBER (repeatable)'],
    ],
    target: 'person',
    fields: { custom_fields: '--custom-field' },
    payload: (o) => ({ phone: o.phone, email: o.email, custom_fields: (o.customField as string[] | undefined)?.map(customField) }),
  },
  {
    kind: 'create-person',
    options: [
      ['--leadgentool <id>', 'leadgentool the person comes through (required)'],
      ['--name <name>', 'name (required)'],
      ['--email <email>', 'email (required)'],
      ['--phone <phone>', 'phone, "+" and digits (required)'],
      ['--connected-user <id>', 'platform user to connect (repeatable)'],
    ],
    target: 'leadgentool',
    fields: { connected_users_ids: '--connected-user' },
    payload: (o) => ({ name: o.name, email: o.email, phone: o.phone, connected_users_ids: o.connectedUser }),
  },
  {
    kind: 'add-sms-connection',
    options: [
      ['--leadgentool <id>', 'leadgentool (required)'],
      ['--connection <id>', 'SMS connection id (required)'],
      ['--contact <phone,name[,email]>', 'a person to add, e.g. "+380667772233,Olena,olena@example.com" (repeatable, at least one)'],
      ['--tag <name|id>', 'tag to give them (repeatable)'],
    ],
    target: 'leadgentool',
    fields: { connection_id: '--connection', data: '--contact', tags: '--tag' },
    payload: (o) => ({ connection_id: o.connection, data: ((o.contact as string[] | undefined) ?? []).map(contact), tags: o.tag }),
  },
  {
    kind: 'update-order',
    options: [
      ['--order <id>', 'MANUAL order id (required)'],
      ['--status <status>', 'RESOLVED or REJECTED (required)'],
      ['--price <amount>', 'amount actually received'],
      ['--currency <code>', 'currency, e.g. USD'],
      ['--payment-date <date>', 'payment date, e.g. "2018-06-27 07:32" (UTC) or an ISO timestamp'],
      ['--comment <text>', 'userComments'],
    ],
    target: 'order',
    fields: { paymentDate: '--payment-date', userComments: '--comment' },
    payload: (o) => ({ status: o.status, price: o.price, currency: o.currency, paymentDate: o.paymentDate, userComments: o.comment }),
  },
  {
    kind: 'create-order',
    options: [
      ['--person <id>', 'person id (required)'],
      ['--offer <id>', 'offer id (required)'],
      ['--payment-credits <id>', 'payment system id, from the platform settings (required)'],
      ['--email <email>', "the person's email"],
      ['--phone <phone>', "the person's phone"],
      ['--transaction-date <date>', 'transaction date (ISO timestamp)'],
      ['--notify', 'tell the person the order was created'],
      ['--manager <id>', 'platform user the order is assigned to'],
    ],
    target: 'person',
    fields: { offerId: '--offer', paymentCreditsId: '--payment-credits', transactionDate: '--transaction-date', isNotifyAccount: '--notify', managerId: '--manager' },
    payload: (o) => ({
      offerId: o.offer,
      paymentCreditsId: o.paymentCredits,
      email: o.email,
      phone: o.phone,
      transactionDate: o.transactionDate,
      isNotifyAccount: o.notify === true ? true : undefined,
      managerId: o.manager,
    }),
  },
  {
    kind: 'send-message',
    options: [
      ['--channel <id>', 'communication channel (account) id (required)'],
      ['--text <text>', 'message text (required)'],
    ],
    target: 'channel',
    payload: (o) => ({ text: o.text }),
  },
  {
    kind: 'send-template',
    options: [
      ['--channel <id>', 'communication channel (account) id (required)'],
      ['--template <id>', 'message template id (required)'],
      ['--var <key=value>', 'template variable (repeatable)'],
    ],
    target: 'channel',
    fields: { template_id: '--template', variables: '--var' },
    payload: (o) => ({ template_id: o.template, variables: variables(o.var as string[] | undefined) }),
  },
  {
    kind: 'manual-subscribe',
    options: [
      ['--channel <id>', 'communication channel (account) id (required)'],
      ['--tunnel <id>', 'tunnel id (required)'],
      ['--block <id>', 'tunnel block id (required)'],
    ],
    target: 'channel',
    fields: { tunnel_id: '--tunnel', tunnel_block_id: '--block' },
    payload: (o) => ({ tunnel_id: o.tunnel, tunnel_block_id: o.block }),
  },
  {
    kind: 'create-traffic-source',
    options: [
      ['--leadgentool <id>', 'leadgentool id (required)'],
      ['--name <name>', 'traffic source name (required)'],
      ['--description <text>', 'description'],
    ],
    target: 'leadgentool',
    payload: (o) => ({ name: o.name, description: o.description }),
  },
];

/** Drops undefined values, so an absent option is an absent field. */
function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

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

function openExisting(): Mirror {
  const env = loadConfig(process.env);
  const path = sqlitePath(env.DATABASE_URL);
  if (path !== ':memory:' && !existsSync(path)) throw new ConfigError(`no mirror at ${path} yet: run \`leeloo-sync sync\` first`);
  return openMirror(path);
}

function withMirror(fn: (m: Mirror) => void): void {
  let mirror: Mirror | undefined;
  try {
    mirror = openExisting();
    fn(mirror);
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
      .action((o: Opts) => {
        withMirror((mirror) => {
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
  return cmd;
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
    .action((o: { status?: WriteStatus; kind?: string; limit: string; json?: boolean }) => {
      withMirror((mirror) => {
        const limit = Number(o.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new ConfigError(`--limit must be a whole number of at least 1 (got "${o.limit}")`);
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
    .action((id: string) => {
      withMirror((mirror) => {
        const row = getWrite(mirror, parseId(id));
        if (!row) throw new ConfigError(`no write #${id} in the outbox`);
        process.stdout.write(`${JSON.stringify({ ...row, payload: safeJson(row.payload), api_response: safeJson(row.api_response) }, null, 2)}\n`);
      });
    });
  cmd
    .command('retry <id>')
    .description('send a failed, dead, ambiguous or cancelled write again (for an ambiguous one: after checking Leeloo)')
    .action((id: string) => withMirror((mirror) => printRow(retryWrite(mirror, parseId(id)), false)));
  cmd
    .command('cancel <id>')
    .description('do not send this write (an attempt already on its way still records its outcome)')
    .action((id: string) => withMirror((mirror) => printRow(cancelWrite(mirror, parseId(id)), false)));
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

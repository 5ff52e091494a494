/** `leeloo-sync enqueue <operation> …`: validated now, stored in the outbox as pending. */
import { Command, Option } from 'commander';
import { ConfigError, ValidationError } from '../errors.js';
import { KIND_INFO } from '../writes/operations.js';
import type { WriteRequest } from '../writes/validate.js';
import type { OutboxRow } from '../writes/outbox.js';
import { collect, defined, SPECS, type Opts, type Spec } from './enqueue-specs.js';
import { printRow, withStore } from './outbox-rows.js';

/** The CLI names its options in errors: "--person: must be a 24-hex id". */
function asOptionError(err: ValidationError, spec: Spec): ConfigError {
  const m = /^([A-Za-z_]+)(.*)$/.exec(err.field);
  let field = err.field;
  if (field === 'payload') return new ConfigError(`${spec.kind}: ${err.detail.replace(/\b(phone|email|custom_fields)\b/g, (f) => spec.fields?.[f] ?? `--${f}`)}`);
  if (err.field.endsWith('(target_id)')) field = `--${spec.target}`;
  else if (m) {
    const head = m[1] as string;
    field = `${spec.fields?.[head] ?? `--${head.replace(/_/g, '-')}`}${m[2]}`;
  }
  return new ConfigError(`${field}: ${err.detail}`);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

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
        await withStore(async (store, { enqueueWrite }) => {
          let row: OutboxRow;
          try {
            const req = { kind: spec.kind, target: o[spec.target], payload: defined(spec.payload(o)) } as unknown as WriteRequest;
            row = await enqueueWrite(store, req, { idempotencyKey: str(o.idempotencyKey) });
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

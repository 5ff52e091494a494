/**
 * The `enqueue` subcommands: one per operation, with the options that fill its target_id and
 * payload. Validation is left to normalizeWrite (the same for every way in); the parsers here
 * only split repeatable options into the payload's shape.
 */
import { ValidationError } from '../errors.js';
import type { WriteKind } from '../writes/operations.js';

export type Opts = Record<string, unknown>;

export interface Spec {
  kind: WriteKind;
  /** commander option flags, then description. */
  options: [flags: string, description: string][];
  /** The option that gives target_id. */
  target: string;
  /** payload field → the option it came from, for error messages (target and same-named fields need none). */
  fields?: Record<string, string>;
  payload(o: Opts): Record<string, unknown>;
}

export const collect = (v: string, prev: string[] = []) => [...prev, v];

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
export const SPECS: Spec[] = [
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
export function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * zod field schemas shared by the operations' payload schemas. Each message completes a sentence
 * that starts with the field's name ("phone: must be …"), so errors name the field.
 */
import { z } from 'zod';
import { updateOrderStatus } from '../leeloo/bodies.js';

/**
 * Size limits of write payloads, checked before anything is stored or sent (README, Write-backs).
 * The docs give none; these keep a request well under what an HTTP server accepts (a 20 MB
 * comment was answered 413) and stay far above what a person types: messengers cap a message
 * near 4096 characters (Telegram's limit), emails at 254 (RFC 5321), E.164 phones at 15 digits.
 */
export const LIMITS = {
  /** The whole payload, as JSON (UTF-8 bytes). */
  payloadBytes: 256 * 1024,
  /** send-message text. */
  message: 4096,
  /** add-comment text, and update-order's userComments. */
  comment: 10_000,
  /** Names: a person's, a contact's, a custom field's, a traffic source's. */
  name: 256,
  email: 254,
  phone: 32,
  customFieldValue: 1024,
  customFields: 100,
  description: 1000,
  templateVariables: 50,
  templateVariableName: 64,
  templateVariableValue: 1024,
  contacts: 1000,
  tags: 100,
  /** One tag name or id. */
  tag: 256,
  connectedUsers: 100,
} as const;

const required = (what: string) => (iss: { input: unknown }) => (iss.input === undefined || iss.input === null ? 'is required' : `must be ${what}`);

/** "Ids are 24-hex MongoDB ObjectIds" (docs/leeloo-api.md); the API wants them lower-case. */
export const HEX_ID = /^[0-9a-f]{24}$/i;

export const hexId = z
  .string({ error: required('a 24-hex id') })
  .trim()
  .regex(HEX_ID, 'must be a 24-hex id, e.g. 5b3f543bb2737000133d25b0')
  .transform((s) => s.toLowerCase());

/** Non-empty text, kept as written (a message's spacing is the user's). */
export const text = z.string({ error: required('text') }).refine((s) => s.trim() !== '', 'must not be empty');

/** POST /people: "Phones must be `+` followed by digits" (docs/leeloo-api.md); E.164 allows at most 15. */
export const phone = z
  .string({ error: required('a phone number') })
  .max(LIMITS.phone, `must be at most ${LIMITS.phone} characters`)
  .trim()
  .regex(/^\+\d{5,15}$/, 'must be "+" followed by 5 to 15 digits, e.g. +380953066789');

export const email = z
  .string({ error: required('an email address') })
  .trim()
  .max(LIMITS.email, `must be at most ${LIMITS.email} characters`)
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be an email address');

/** Custom field types listed by the docs for PUT /people/{id}. */
export const customFieldType = z.enum(['EMAIL', 'PHONE', 'DATE', 'KEYWORD', 'NUMBER'], { error: 'must be one of EMAIL, PHONE, DATE, KEYWORD, NUMBER' });

export const orderStatus = z.enum(updateOrderStatus.options, { error: (iss) => (iss.input === undefined ? 'is required' : 'must be RESOLVED or REJECTED') });

/** The docs' currencies are USD, EUR, UAH, RUB; any ISO 4217 code is let through to the API. */
export const currency = z
  .string({ error: required('a currency code') })
  .trim()
  .regex(/^[A-Za-z]{3}$/, 'must be a 3-letter currency code, e.g. USD')
  .transform((s) => s.toUpperCase());

/** "price example: '100'": a non-negative amount, as a number or numeric text. */
export const price = z
  .union([z.number(), z.string().trim()], { error: required('a number') })
  .transform((v, ctx) => {
    const n = typeof v === 'number' ? v : /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n) || n < 0 || n > 1e12) {
      ctx.addIssue({ code: 'custom', message: 'must be a non-negative number up to 1000000000000, e.g. 100 or 99.5' });
      return z.NEVER;
    }
    return n;
  });

const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(2100, 0, 1);

const DAY_TIME = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?)?$/;

/** A date; `YYYY-MM-DD[ HH:mm]` without a zone is read as UTC ("All dates are UTC", docs/leeloo-api.md). */
function parseUtc(v: string): Date | null {
  const m = DAY_TIME.exec(v);
  const d = m ? new Date(`${m[1]}T${m[2] ?? '00:00'}:00Z`) : /[zZ]|[+-]\d{2}:?\d{2}$/.test(v) ? new Date(v) : null;
  return d && !Number.isNaN(d.getTime()) ? d : null;
}

const dateText = (what: string) =>
  z
    .union([z.string().trim(), z.date()], { error: required(what) })
    .transform((v, ctx) => {
      const d = typeof v === 'string' ? parseUtc(v) : v;
      if (!d || Number.isNaN(d.getTime())) {
        ctx.addIssue({ code: 'custom', message: `must be ${what}` });
        return z.NEVER;
      }
      // Year 0 or 9999 is a typo, not a payment: nothing in a Leeloo company is that old or far.
      if (d.getTime() < EARLIEST || d.getTime() >= LATEST) {
        ctx.addIssue({ code: 'custom', message: `must be a date from 2000-01-01 to 2099-12-31 (UTC)` });
        return z.NEVER;
      }
      return d;
    });

/** POST /orders/{id} form field, sent as the docs' example form `2018-06-27 07:32` (UTC). */
export const paymentDate = dateText('a date, e.g. 2018-06-27 07:32 (UTC) or an ISO timestamp').transform((d) => {
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
});

/** POST /orders: "transactionDate … в формате 2020-02-04T11:46:48.803Z". */
export const isoDate = dateText('an ISO timestamp, e.g. 2020-02-04T11:46:48.803Z').transform((d) => d.toISOString());

/** "isNotifyAccount … true or false"; the docs' example sends the string "false", so text is sent. */
export const flag = z
  .union([z.boolean(), z.enum(['true', 'false'])], { error: required('true or false') })
  .transform((v) => (v === true || v === 'true' ? 'true' : 'false') as 'true' | 'false');

export const idList = z.array(hexId, { error: required('a list of 24-hex ids') }).max(LIMITS.connectedUsers, `must list at most ${LIMITS.connectedUsers} ids`);

/** Characters as a person counts them: code points, not UTF-16 units. */
export function charCount(s: string): number {
  return s.length - (s.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);
}

const atMost = (max: number) => (s: string) => charCount(s) <= max;
const tooLong = (max: number) => (iss: { input: unknown }) => `must be at most ${max} characters (got ${typeof iss.input === 'string' ? charCount(iss.input) : '?'})`;

/** Non-empty text of at most `max` characters. */
export const textUpTo = (max: number) => text.refine(atMost(max), { error: tooLong(max) });

/** Optional-style text (may be empty) of at most `max` characters. */
export const plainUpTo = (max: number) => z.string({ error: 'must be text' }).refine(atMost(max), { error: tooLong(max) });

/** A list of at most `max` entries. */
export const listMax = (max: number, what: string) => `must list at most ${max} ${what}`;

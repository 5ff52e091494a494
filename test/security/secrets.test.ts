import { describe, expect, it } from 'vitest';
import { ApiError, ConfigError, ValidationError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { redact, redactDeep, redactedError, registerSecret } from '../../src/secrets.js';

const TOKEN = 'Zq"7\\tok en/+=é~9x';
registerSecret(TOKEN);
const j = (s: string) => JSON.stringify(s).slice(1, -1);
const b64 = (s: string, enc: BufferEncoding = 'utf8') => Buffer.from(s, enc).toString('base64');

/** The token as servers and serializers write it. */
const FORMS: Record<string, string> = {
  raw: TOKEN,
  json: j(TOKEN),
  'json twice': j(j(TOKEN)),
  'json, PHP-style \\/': j(TOKEN).replace(/\//g, '\\/'),
  'json, \\u escapes': j(TOKEN).replace(/é/g, '\\u00e9'),
  url: encodeURIComponent(TOKEN),
  'url, lower-case hex': encodeURIComponent(TOKEN).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  'url, in json': j(encodeURIComponent(TOKEN)),
  form: encodeURIComponent(TOKEN).replace(/%20/g, '+'),
  URLSearchParams: new URLSearchParams({ t: TOKEN }).toString().slice(2),
  base64: b64(TOKEN),
  'base64 unpadded': b64(TOKEN).replace(/=+$/, ''),
  base64url: Buffer.from(TOKEN).toString('base64url'),
  'base64 of the Latin-1 bytes': b64(TOKEN, 'latin1'),
  html: TOKEN.replace(/&/g, '&amp;').replace(/"/g, '&quot;'),
  'html of json': j(TOKEN).replace(/"/g, '&quot;'),
};

describe('redact', () => {
  it.each(Object.entries(FORMS))('replaces the token written as %s', (_name, form) => {
    const out = redact(`before ${form} after`);
    expect(out).toBe('before [REDACTED] after');
  });

  it('finds the token base64-encoded inside a longer value, at any alignment', () => {
    for (const prefix of ['', 'u:', 'us:', 'usr:']) {
      const header = `Basic ${b64(`${prefix}${TOKEN}`)}`;
      const out = redact(header);
      expect(out, prefix).toContain('[REDACTED]');
      // What is left cannot be decoded back to most of the token.
      expect(Buffer.from(out.replace('Basic ', '').replace('[REDACTED]', ''), 'base64').toString('latin1')).not.toContain('tok en');
    }
  });

  it('leaves other text alone and ignores secrets too short to be one', () => {
    registerSecret('ab');
    expect(redact('a plain line: ab, abc, tok en, Zq')).toBe('a plain line: ab, abc, tok en, Zq');
  });

  it('walks objects and keeps errors errors', () => {
    const err = new ValidationError('field', 'x');
    Object.assign(err, { echoed: `got ${j(TOKEN)}` });
    const plain = new TypeError(`bad ${TOKEN}`);
    const out = redactDeep({ a: [TOKEN, { b: FORMS.url }], err, plain, n: 1, d: null });
    expect(JSON.stringify(out)).not.toContain('tok en');
    expect(out.a[0]).toBe('[REDACTED]');
    expect(out.err).toBeInstanceOf(ValidationError);
    expect((out.err as unknown as { echoed: string }).echoed).toBe('got [REDACTED]');
    expect(out.plain).toBeInstanceOf(TypeError);
    expect(out.plain.message).toBe('bad [REDACTED]');
    expect(out.plain.stack).not.toContain('tok en');
  });

  it('writes what JSON would for objects with toJSON', () => {
    const out = redactDeep({ at: new URL(`https://h.example/?t=${encodeURIComponent(TOKEN)}`), when: new Date(0) });
    expect(out.at).toBe('https://h.example/?t=[REDACTED]');
    expect(out.when).toEqual(new Date(0));
  });

  it('redactedError: the same error when clean, a redacted copy otherwise', () => {
    const clean = new Error('nothing secret');
    expect(redactedError(clean)).toBe(clean);
    const dirty = redactedError(new RangeError(`leaked ${FORMS.base64}`));
    expect(dirty.message).toBe('leaked [REDACTED]');
    expect(dirty.name).toBe('RangeError');
    expect(dirty.stack).not.toContain(FORMS.base64);
  });
});

describe('errors are redacted at construction', () => {
  it('ApiError message and body excerpt', () => {
    const e = new ApiError({ kind: 'http', method: 'GET', path: '/api/v2/tags', status: 401, bodyExcerpt: `{"echo":"${j(TOKEN)}"}`, detail: FORMS.form });
    expect(e.message).not.toContain('tok');
    expect(e.bodyExcerpt).toBe('{"echo":"[REDACTED]"}');
  });

  it('every LeelooSyncError', () => {
    expect(new ConfigError(`bad ${FORMS.url}`).message).toBe('bad [REDACTED]');
    expect(new ValidationError('x', FORMS.base64url!).message).toBe('x: [REDACTED]');
  });
});

describe('createLogger', () => {
  it('redacts messages, fields and errors before pino escapes them, and the line again', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'trace', destination: { write: (s: string) => void lines.push(s) } });
    for (const [name, form] of Object.entries(FORMS)) {
      log.info(`message ${form}`);
      log.warn({ form, nested: { deeper: [form] }, name }, 'fields');
      log.error(new Error(`thrown ${form}`));
      log.error({ err: new Error(`as err ${form}`) }, 'with err');
      log.info('interpolated %s and %j', form, { form });
    }
    const all = lines.join('');
    expect(lines.length).toBe(Object.keys(FORMS).length * 5);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    for (const [name, form] of Object.entries(FORMS)) {
      expect(all.includes(form), name).toBe(false);
      expect(all.includes(j(form)), `${name} (as JSON)`).toBe(false);
    }
    expect(all).toContain('[REDACTED]');
    const errLine = JSON.parse(lines[2]!) as { err: { type: string; message: string }; msg: string };
    expect(errLine.err.type).toBe('Error');
    expect(errLine.msg).toBe('thrown [REDACTED]');
  });
});

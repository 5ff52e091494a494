import { describe, expect, it } from 'vitest';
import { clean, cleanDeep, cleanString, isSentinel } from '../../src/leeloo/sentinels.js';

describe('sentinels', () => {
  it('recognises NOT_DEFINED and NO_DATA only', () => {
    expect(isSentinel('NOT_DEFINED')).toBe(true);
    expect(isSentinel('NO_DATA')).toBe(true);
    expect(isSentinel('not_defined')).toBe(false);
    expect(isSentinel('')).toBe(false);
    expect(isSentinel(null)).toBe(false);
  });

  it('padded sentinels count, as the trim reads them, whatever the padding', () => {
    for (const pad of [' ', '\t', '\n', '\u00a0', '\ufeff', '\u2003', '\u3000']) {
      expect(isSentinel(`${pad}NOT_DEFINED${pad}`), JSON.stringify(pad)).toBe(true);
      expect(isSentinel(`NO_DATA${pad}`), JSON.stringify(pad)).toBe(true);
    }
    for (const s of ['xNOT_DEFINED', 'NOT_DEFINEDx', 'Олег', 'NO_DAT', 'aaaaaaaaaaa']) expect(isSentinel(s), s).toBe(false);
  });

  it('clean turns sentinels and undefined into null and keeps everything else', () => {
    expect(clean('NOT_DEFINED')).toBeNull();
    expect(clean('NO_DATA')).toBeNull();
    expect(clean(undefined)).toBeNull();
    expect(clean('a@b.c')).toBe('a@b.c');
    expect(clean(0)).toBe(0);
    expect(clean('')).toBe('');
    const o = { a: 'NOT_DEFINED' };
    expect(clean(o)).toBe(o); // shallow
  });

  it('cleanString gives strings or null', () => {
    expect(cleanString('NOT_DEFINED')).toBeNull();
    expect(cleanString(null)).toBeNull();
    expect(cleanString(undefined)).toBeNull();
    expect(cleanString('OTHER')).toBe('OTHER');
    expect(cleanString('')).toBe('');
    expect(cleanString(100)).toBe('100');
    expect(cleanString(false)).toBe('false');
    expect(cleanString({})).toBeNull();
  });

  it('cleanDeep copies with sentinels nulled and leaves the raw payload untouched', () => {
    const raw = { email: 'NOT_DEFINED', gender: 'NO_DATA', tags: ['x', 'NOT_DEFINED'], nested: { phone: 'NOT_DEFINED', n: 1 } };
    const copy = JSON.parse(JSON.stringify(raw));
    expect(cleanDeep(raw)).toEqual({ email: null, gender: null, tags: ['x', null], nested: { phone: null, n: 1 } });
    expect(raw).toEqual(copy);
  });
});

import type { z } from 'zod';

/**
 * A check-only twin of a zod schema: true when the value passes, false when it may not. zod's
 * own parse builds a full copy of every payload (looseObject copies each unknown key), which the
 * client then throws away: it hands back the payload as received. On a full sync that copy was
 * most of the validation's cost (bench/cpu-profile.ts). The twin allocates nothing.
 *
 * It covers the kinds the response schemas (schemas.ts) use: object (loose, plain or strict),
 * string (with min length), number, boolean, literal, enum, array, record, union, optional,
 * nullable, unknown and any. For a schema with anything else, compileCheck returns null and the
 * caller uses zod alone. A false answer is never final: the caller then asks zod, whose issues
 * name what is wrong, so the twin can only make a passing payload cheaper to pass.
 */
export type Check = (v: unknown) => boolean;

const cache = new WeakMap<z.ZodType, Check | null>();

export function compileCheck(schema: z.ZodType): Check | null {
  if (cache.has(schema)) return cache.get(schema)!;
  let out: Check | null;
  try {
    out = build(schema);
  } catch (err) {
    if (!(err instanceof Unsupported)) throw err;
    out = null;
  }
  cache.set(schema, out);
  return out;
}

class Unsupported extends Error {}

interface Def {
  type: string;
  checks?: { _zod: { def: { check: string; minimum?: number } } }[];
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  values?: unknown[];
  entries?: Record<string, unknown>;
}

const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPlain = (v: unknown): v is Record<string, unknown> => {
  if (!isObject(v)) return false;
  const p = Object.getPrototypeOf(v) as unknown;
  return p === Object.prototype || p === null;
};
const always: Check = () => true;
const optionalIn = (s: z.ZodType) => (s as unknown as { _zod: { optin?: string } })._zod.optin === 'optional';

function build(schema: z.ZodType): Check {
  const d = defOf(schema);
  const noChecks = () => {
    if (d.checks && d.checks.length > 0) throw new Unsupported();
  };
  switch (d.type) {
    case 'unknown':
    case 'any':
      noChecks();
      return always;
    case 'string': {
      let min = 0;
      for (const c of d.checks ?? []) {
        if (c._zod.def.check !== 'min_length' || typeof c._zod.def.minimum !== 'number') throw new Unsupported();
        min = Math.max(min, c._zod.def.minimum);
      }
      return min > 0 ? (v) => typeof v === 'string' && v.length >= min : (v) => typeof v === 'string';
    }
    case 'number':
      noChecks();
      return (v) => typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      noChecks();
      return (v) => typeof v === 'boolean';
    case 'literal': {
      const values = d.values ?? [];
      return (v) => values.includes(v);
    }
    case 'enum': {
      const values = Object.values(d.entries ?? {});
      return (v) => values.includes(v);
    }
    case 'optional': {
      const inner = build(d.innerType!);
      return (v) => v === undefined || inner(v);
    }
    case 'nullable': {
      const inner = build(d.innerType!);
      return (v) => v === null || inner(v);
    }
    case 'union': {
      const options = (d.options ?? []).map(build);
      return (v) => {
        for (const o of options) if (o(v)) return true;
        return false;
      };
    }
    case 'array': {
      noChecks();
      const el = build(d.element!);
      return (v) => {
        if (!Array.isArray(v)) return false;
        for (const x of v) if (!el(x)) return false;
        return true;
      };
    }
    case 'record': {
      noChecks();
      if (defOf(d.keyType!).type !== 'string' || (defOf(d.keyType!).checks?.length ?? 0) > 0) throw new Unsupported();
      const value = build(d.valueType!);
      if (value === always) return isPlain;
      return (v) => {
        if (!isPlain(v)) return false;
        for (const k in v) if (Object.hasOwn(v, k) && !value(v[k])) return false;
        return true;
      };
    }
    case 'object': {
      noChecks();
      // zod requires every key whose schema is not optional (`optin`), z.unknown() included:
      // absent fails there, present as undefined is the schema's call.
      const fields = Object.entries(d.shape ?? {}).map(([k, s]) => [k, build(s), optionalIn(s)] as const);
      const catchall = d.catchall ? defOf(d.catchall).type : undefined;
      // Loose (unknown) and plain (stripped) objects accept any other key; strict ones none.
      if (catchall !== undefined && catchall !== 'unknown' && catchall !== 'never') throw new Unsupported();
      const strict = catchall === 'never';
      return (v) => {
        if (!isObject(v)) return false;
        for (let i = 0; i < fields.length; i++) {
          const f = fields[i]!;
          const x = v[f[0]];
          if (x === undefined && !(f[0] in v)) {
            if (!f[2]) return false;
          } else if (!f[1](x)) return false;
        }
        if (strict) for (const k in v) if (Object.hasOwn(v, k) && !fields.some((f) => f[0] === k)) return false;
        return true;
      };
    }
    default:
      throw new Unsupported();
  }
}

import { ConfigError } from '../errors.js';
import { DATE_PRECISIONS, FAULT_KINDS, type DatePrecision, type FaultKind, type SimKnobs } from './types.js';

export const DEFAULT_KNOBS: SimKnobs = {
  pageCap: null,
  latencyMs: 0,
  faultRate: 0,
  faultKinds: ['5xx', '429', 'truncated', 'drop', 'slow'],
  slowMs: 2000,
  retryAfterSeconds: 1,
  rateLimitRps: null,
  messagesOrder: 'newest',
  activityPerListRequest: 0,
  datePrecision: 'exact',
  neverWrote: 0,
  claimTotalCount: null,
  notFoundRate: 0,
};

function num(name: string, v: unknown, min: number, max: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new ConfigError(`knob ${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max} (got ${JSON.stringify(v)})`);
  }
  return v;
}

/** Validates a partial knob set (from code or POST /__sim/knobs); unknown names are errors. */
export function checkKnobs(k: Partial<Record<keyof SimKnobs, unknown>> & Record<string, unknown>): Partial<SimKnobs> {
  const out: Partial<SimKnobs> = {};
  for (const [name, v] of Object.entries(k)) {
    if (v === undefined) continue;
    switch (name) {
      case 'pageCap':
        out.pageCap = v === null ? null : num(name, v, 1, 1e9, true);
        break;
      case 'latencyMs':
        out.latencyMs = num(name, v, 0, 600_000);
        break;
      case 'faultRate':
        out.faultRate = num(name, v, 0, 1);
        break;
      case 'faultKinds':
        if (!Array.isArray(v) || v.some((x) => !FAULT_KINDS.includes(x as FaultKind))) {
          throw new ConfigError(`knob faultKinds must be a list of ${FAULT_KINDS.join(', ')} (got ${JSON.stringify(v)})`);
        }
        out.faultKinds = [...new Set(v as FaultKind[])];
        break;
      case 'slowMs':
        out.slowMs = num(name, v, 0, 600_000);
        break;
      case 'retryAfterSeconds':
        out.retryAfterSeconds = num(name, v, 0, 86_400, true);
        break;
      case 'rateLimitRps':
        out.rateLimitRps = v === null ? null : num(name, v, 1, 1e9, true);
        break;
      case 'messagesOrder':
        if (v !== 'newest' && v !== 'oldest') throw new ConfigError(`knob messagesOrder must be newest or oldest (got ${JSON.stringify(v)})`);
        out.messagesOrder = v;
        break;
      case 'activityPerListRequest':
        out.activityPerListRequest = num(name, v, 0, 10_000);
        break;
      case 'datePrecision':
        if (!DATE_PRECISIONS.includes(v as DatePrecision)) {
          throw new ConfigError(`knob datePrecision must be one of ${DATE_PRECISIONS.join(', ')} (got ${JSON.stringify(v)})`);
        }
        out.datePrecision = v as DatePrecision;
        break;
      case 'neverWrote':
        out.neverWrote = num(name, v, 0, 1);
        break;
      case 'claimTotalCount':
        out.claimTotalCount = v === null ? null : num(name, v, 0, 1e12, true);
        break;
      case 'notFoundRate':
        out.notFoundRate = num(name, v, 0, 1);
        break;
      default:
        throw new ConfigError(`unknown knob ${name}`);
    }
  }
  return out;
}

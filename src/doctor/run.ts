import type { Env } from '../config.js';
import { ApiError } from '../errors.js';
import type { LeelooClient } from '../leeloo/client.js';
import type { FindingsStore } from '../sync/findings.js';
import { checkEndpoints, type EndpointResult } from './endpoints.js';
import { checkChatPath, checkUnknownIds } from './ids.js';
import { checkOrder, checkPageCap } from './lists.js';
import { DATE_FILTER, PROBE_REQUESTS, probeDateFilter, type DateFilterFinding } from './probe.js';
import { REACHABILITY, checkReachability } from './reachability.js';
import { BudgetExhausted, DoctorContext, MAX_REQUESTS, answerOf, type Check } from './types.js';

export interface DoctorReport {
  checks: Check[];
  /** What syncs will use for filter[last_message]. */
  dateFilter: 'datetime' | 'date';
  /** Safe to sync (possibly adapted to what was found). */
  ok: boolean;
  requests: number;
  endpoints: EndpointResult[];
  /** Every finding stored in the mirror by this run, by name. */
  findings: Record<string, unknown>;
}

async function checkToken(dc: DoctorContext): Promise<Check> {
  try {
    await dc.call(() => dc.client.usersPage({ limit: 1 }));
    return { name: 'token', ok: true, detail: 'LEELOO_API_TOKEN is accepted', action: '—' };
  } catch (err) {
    const auth = err instanceof ApiError && (err.status === 401 || err.status === 403);
    return {
      name: 'token',
      ok: false,
      detail: auth ? `authentication failed: the API refused LEELOO_API_TOKEN (${answerOf(err)})` : `the API did not answer: ${answerOf(err)}`,
      action: auth ? 'nothing can sync: set the token from Leeloo settings → API' : `check LEELOO_API_URL (${dc.env.LEELOO_API_URL}) and the network`,
    };
  }
}

async function checkDateFilter(dc: DoctorContext, put: (name: string, v: unknown, detail: string) => void): Promise<{ check: Check; dateFilter: 'datetime' | 'date' }> {
  const r = await probeDateFilter(dc.client, { startDate: dc.startDate, now: dc.now, call: (fn) => dc.call(fn) });
  const f: DateFilterFinding = r.finding;
  if (r.conclusive) put(DATE_FILTER, f, r.detail);
  const setting = dc.env.LEELOO_DATE_FORMAT;
  const used: 'datetime' | 'date' = setting === 'auto' ? (f.mode === 'datetime' ? 'datetime' : 'date') : setting;
  let ok = f.mode !== 'ignored';
  let action: string;
  if (!ok) action = 'not safe: no window can be proven complete; incremental syncs fail rather than guess';
  else if (setting === 'datetime' && f.mode === 'date') {
    ok = false;
    action = 'not safe: LEELOO_DATE_FORMAT=datetime, but the server reads dates only; set LEELOO_DATE_FORMAT=auto (the default)';
  } else if (used === 'datetime') action = 'sub-day datetime windows (lookback of minutes, splits down to 1 s)';
  else action = `whole-day date windows, \`to\` sent as ${f.dateTo === 'day' ? 'the last day covered' : 'the day after the last day covered'}${r.conclusive ? '' : ' (either reading covered)'}`;
  return { check: { name: DATE_FILTER, ok, detail: r.detail, action }, dateFilter: used };
}

/**
 * Doctor: a read-only check of the configured API, at most MAX_REQUESTS requests (GET only),
 * paced by the client's rate limiter. Findings are stored in the mirror (source `doctor`);
 * syncs read them (date_filter, reachability).
 */
export async function runDoctor(client: LeelooClient, env: Env, findings: FindingsStore, counter: { requests: number }, attemptsPerCall: number): Promise<DoctorReport> {
  const dc = new DoctorContext(client, env, attemptsPerCall, counter);
  const stored: Record<string, unknown> = {};
  // Checks report findings as they go; the writes are awaited before the report is returned.
  const writes: Promise<void>[] = [];
  const put = (name: string, v: unknown, detail: string) => {
    const w = findings.put(name, v, 'doctor', detail);
    w.catch(() => undefined); // awaited below
    writes.push(w);
    stored[name] = v;
  };
  const checks: Check[] = [];
  const report = async (dateFilter: 'datetime' | 'date', endpoints: EndpointResult[] = []): Promise<DoctorReport> => {
    await Promise.all(writes);
    return {
    checks,
    dateFilter,
    ok: checks.every((c) => c.ok),
    requests: counter.requests,
    endpoints,
    findings: stored,
    };
  };
  const fallback: 'datetime' | 'date' = env.LEELOO_DATE_FORMAT === 'datetime' ? 'datetime' : 'date';

  const token = await checkToken(dc);
  checks.push(token);
  if (!token.ok) return report(fallback);
  let endpoints: EndpointResult[] = [];
  let dateFilter = fallback;
  try {
    const e = await checkEndpoints(dc);
    checks.push(e.check);
    endpoints = e.endpoints;
    if (dc.requests + PROBE_REQUESTS * attemptsPerCall > MAX_REQUESTS) throw new BudgetExhausted(dc.requests);
    const d = await checkDateFilter(dc, put);
    checks.push(d.check);
    dateFilter = d.dateFilter;
    const order = checkOrder(dc);
    checks.push(order.check);
    put('list_order', order.finding, order.check.detail);
    const cap = await checkPageCap(dc);
    checks.push(cap.check);
    if (cap.finding) put('page_cap', cap.finding, cap.check.detail);
    const chat = await checkChatPath(dc);
    checks.push(chat.check);
    if (chat.finding) put('chat_path', chat.finding, chat.check.detail);
    const ids = await checkUnknownIds(dc);
    checks.push(ids.check);
    put('unknown_id', ids.finding, ids.check.detail);
    const reach = await checkReachability(dc);
    checks.push(reach.check);
    if (reach.finding) put(REACHABILITY, reach.finding, reach.check.detail);
  } catch (err) {
    if (!(err instanceof BudgetExhausted)) throw err;
    checks.push({ name: 'budget', ok: false, detail: err.message, action: 'run doctor again later; findings so far are stored' });
  }
  return report(dateFilter, endpoints);
}

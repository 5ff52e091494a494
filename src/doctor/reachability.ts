import { BudgetExhausted, answerOf, type Check, type DoctorContext } from './types.js';

/** Finding `reachability`: whether v1 GET /accounts lists channels no last_message window reaches. */
export interface ReachabilityFinding {
  unreachable: boolean;
  v1Total: number | null;
  v2Total: number | null;
}

export const REACHABILITY = 'reachability';

/**
 * GET /people requires filter[last_message], so people and channels that never wrote are listed
 * by no window. v1 GET /accounts takes no date filter: its totalCount against the v2 channels of
 * an all-time window shows whether such records exist (2 requests).
 */
export async function checkReachability(dc: DoctorContext): Promise<{ check: Check; finding: ReachabilityFinding | null }> {
  let v1Total: number | null;
  let v2Total: number | null;
  try {
    v1Total = (await dc.call(() => dc.client.accountsPage({}, { limit: 1 }))).totalCount;
    v2Total = (await dc.call(() => dc.client.channelsPage({ from: dc.startDate, to: dc.tomorrow, dateFormat: 'date' }, { limit: 1 }))).totalCount;
  } catch (err) {
    if (err instanceof BudgetExhausted) throw err;
    return { check: { name: REACHABILITY, ok: true, detail: `could not compare: ${answerOf(err)}`, action: 'only records with a last message are mirrored' }, finding: null };
  }
  if (v1Total === null || v2Total === null) {
    return { check: { name: REACHABILITY, ok: true, detail: 'a list answered without totalCount', action: 'only records with a last message are mirrored' }, finding: null };
  }
  const unreachable = v1Total > v2Total;
  return {
    check: {
      name: REACHABILITY,
      ok: true,
      detail: `v1 /accounts lists ${v1Total} channels, v2 channels since ${dc.env.SYNC_START_DATE}: ${v2Total}${unreachable ? `: ${v1Total - v2Total} no last_message window reaches` : ''}`,
      action: unreachable
        ? 'sync --full and --reconcile read them through v1 /accounts and GET /communication-channels/{id}/person'
        : 'every channel is reachable through the windows',
    },
    finding: { unreachable, v1Total, v2Total },
  };
}

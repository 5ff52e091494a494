import { normalizeTimestamp } from '../leeloo/dates.js';
import type { Page } from '../leeloo/endpoints.js';
import { BudgetExhausted, answerOf, type Check, type DoctorContext } from './types.js';

export type ListOrder = 'newest' | 'oldest' | 'unordered' | 'unknown';

/** The order of a page by one time field: newest first, oldest first, neither, or too short to tell. */
export function orderOf(items: readonly unknown[], field: string): ListOrder {
  const times = items
    .map((it) => (it && typeof it === 'object' ? normalizeTimestamp((it as { [k: string]: unknown })[field]) : null))
    .filter((t): t is string => t !== null);
  let desc = true;
  let asc = true;
  for (let i = 1; i < times.length; i++) {
    if (times[i]! > times[i - 1]!) desc = false;
    if (times[i]! < times[i - 1]!) asc = false;
  }
  if (times.length < 2 || new Set(times).size < 2) return 'unknown';
  return desc ? 'newest' : asc ? 'oldest' : 'unordered';
}

/** Finding `list_order`: the order of the first pages doctor read. */
export interface ListOrderFinding {
  people: ListOrder;
  communication_channels: ListOrder;
  chat_messages: ListOrder;
}

export function checkOrder(dc: DoctorContext): { check: Check; finding: ListOrderFinding } {
  const pageOrder = (p: Page<unknown> | undefined, field: string) => (p ? orderOf(p.items, field) : 'unknown');
  const finding: ListOrderFinding = {
    people: pageOrder(dc.seen.people, 'lastMessageTime'),
    communication_channels: pageOrder(dc.seen.channels, 'lastMessageTime'),
    chat_messages: pageOrder(dc.seen.chat, 'createdAt'),
  };
  const unordered = Object.entries(finding).filter(([, v]) => v === 'unordered');
  return {
    check: {
      name: 'list_order',
      ok: unordered.length === 0,
      detail: Object.entries(finding).map(([k, v]) => `${k}: ${v === 'unknown' ? 'unknown (page too short)' : `${v} first`.replace('unordered first', 'no order')}`).join(', '),
      action:
        unordered.length === 0
          ? 'people and channels windows do not depend on it; chat_messages checks the order on every page and reads a whole history when it is not newest first'
          : `chat_messages reads whole histories; windows stay proven by totalCount (${unordered.map(([k]) => k).join(', ')} without order)`,
    },
    finding,
  };
}

/** Finding `page_cap`: how many items a list serves when asked for 1000. */
export interface PageCapFinding {
  requested: number;
  served: number;
  totalCount: number | null;
  /** The cap, when fewer came back than both the limit and the total. */
  cap: number | null;
}

export async function checkPageCap(dc: DoctorContext): Promise<{ check: Check; finding: PageCapFinding | null }> {
  const requested = 1000;
  try {
    const p = await dc.call(() => dc.client.peoplePage({ from: dc.startDate, to: dc.tomorrow, dateFormat: 'date' }, { limit: requested }));
    const served = p.items.length;
    const capped = served < requested && p.totalCount !== null && served < p.totalCount;
    const finding: PageCapFinding = { requested, served, totalCount: p.totalCount, cap: capped ? served : null };
    const size = dc.env.LEELOO_PAGE_SIZE;
    return {
      check: {
        name: 'page_cap',
        ok: true,
        detail: capped ? `limit=${requested} served ${served} of ${p.totalCount}: pages are capped at ${served}` : `limit=${requested} served ${served}${p.totalCount !== null ? ` of ${p.totalCount}` : ''}: no cap seen`,
        action: capped && size > served ? `pages follow the ${served} served (LEELOO_PAGE_SIZE=${size} is more than the cap; offsets advance by what arrives)` : `LEELOO_PAGE_SIZE=${size} is served whole`,
      },
      finding,
    };
  } catch (err) {
    if (err instanceof BudgetExhausted) throw err;
    return { check: { name: 'page_cap', ok: false, detail: `GET /people?limit=${requested}: ${answerOf(err)}`, action: 'keep LEELOO_PAGE_SIZE at 100 or less' }, finding: null };
  }
}

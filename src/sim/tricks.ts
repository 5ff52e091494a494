import { materialiseExtras } from './lazy.js';
import type { Person } from './model.js';
import { addTag, eventTime, removeTag, updatePerson } from './mutate.js';
import type { Rng } from './random.js';
import type { DeleteReport, DeleteRequest, SilentEditKind, SilentEditReport, SilentEditRequest } from './types.js';
import type { World } from './world.js';

/**
 * What happens in Leeloo without a trace an incremental sync can see: edits made in the UI that
 * send no message (lastMessageTime stays, updated_at moves), and deletions (gone from every list,
 * 404 on the detail and on the channels' chat history; their orders stay).
 */

export const SILENT_EDIT_KINDS: readonly SilentEditKind[] = ['tag', 'email', 'customField'];

function livePeople(w: World): Person[] {
  return w.people.filter((p) => !p.deleted);
}

function howMany(share: number | undefined, of: number): number {
  if (share === undefined) return 0;
  if (typeof share !== 'number' || !Number.isFinite(share) || share < 0 || share > 1) throw new Error(`share must be a number from 0 to 1 (got ${JSON.stringify(share)})`);
  return Math.round(share * of);
}

/** `share` of the live people each get one edit, the kinds taken in turn from `kinds` (default all three). */
export function silentEdits(w: World, rng: Rng, req: SilentEditRequest): SilentEditReport {
  const kinds = req.kinds && req.kinds.length > 0 ? req.kinds : SILENT_EDIT_KINDS;
  for (const k of kinds) if (!SILENT_EDIT_KINDS.includes(k)) throw new Error(`kinds must be a list of ${SILENT_EDIT_KINDS.join(', ')} (got ${JSON.stringify(k)})`);
  const people = livePeople(w);
  const chosen = rng.sample(people, howMany(req.share, people.length));
  const report: SilentEditReport = { tag: [], email: [], customField: [] };
  chosen.forEach((p, i) => {
    const kind = kinds[i % kinds.length] as SilentEditKind;
    const t = eventTime(p.updatedAt);
    if (kind === 'tag') {
      const missing = w.tags.filter((x) => !p.tags.includes(x.name));
      if (p.tags.length > 0 && (missing.length === 0 || rng.chance(0.5))) removeTag(p, rng.pick(p.tags), t);
      else if (missing.length > 0) addTag(p, rng.pick(missing).name, t);
    } else if (kind === 'email') {
      updatePerson(w, p, { email: `edited.${p.idx}.${rng.hex(6)}@example.com` }, t);
    } else {
      const fields = materialiseExtras(w, p).customFields;
      const name = fields.length > 0 && rng.chance(0.5) ? (rng.pick(fields).name) : 'edited in the UI';
      updatePerson(w, p, { customFields: [{ type: 'KEYWORD', name, value: `edited ${rng.hex(8)}` }] }, t);
    }
    report[kind].push(p.id);
  });
  return report;
}

/** Deletes `ids`, or `share` of the live people chosen at random. */
export function deletePeople(w: World, rng: Rng, req: DeleteRequest): DeleteReport {
  const people = req.ids
    ? req.ids.map((id) => {
        const p = w.person(id);
        if (!p) throw new Error(`no live person ${id}`);
        return p;
      })
    : rng.sample(livePeople(w), howMany(req.share, livePeople(w).length));
  const report: DeleteReport = { personIds: [], channelIds: [] };
  for (const p of people) {
    w.peopleByLmt.remove(p);
    p.deleted = true;
    for (const c of p.channels) {
      w.channelsByLmt.remove(c);
      c.deleted = true;
      report.channelIds.push(c.id);
    }
    report.personIds.push(p.id);
  }
  return report;
}

/** Brings deleted people (and their channels) back, as they were. */
export function restorePeople(w: World, ids: string[]): DeleteReport {
  const report: DeleteReport = { personIds: [], channelIds: [] };
  for (const id of ids) {
    const p = w.people.find((x) => x.id === id);
    if (!p || !p.deleted) throw new Error(`no deleted person ${id}`);
    p.deleted = false;
    w.peopleByLmt.insert(p);
    for (const c of p.channels) {
      c.deleted = false;
      w.channelsByLmt.insert(c);
      report.channelIds.push(c.id);
    }
    report.personIds.push(p.id);
  }
  return report;
}

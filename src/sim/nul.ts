import { materialiseExtras, materialiseMessages } from './lazy.js';
import type { Rng } from './random.js';
import type { NulStringsReport, NulStringsRequest } from './types.js';
import type { World } from './world.js';

/**
 * API strings holding U+0000, which JSON carries (`\u0000`) and PostgreSQL stores in neither text
 * nor jsonb: chosen people get one in their name, in a custom field value and in a message text,
 * and one of their tags gets one in its name (in every person's list and in GET /tags), and so does
 * the first tunnel's name. Nothing
 * moves updated_at or lastMessageTime: play it before a full sync, as data that was always there.
 */

const NUL = '\u0000';
/**
 * In the middle of the text, where a pasted control character would sit (not where trim() would
 * drop it), between code points: splitting an emoji's surrogate pair would send a lone surrogate.
 */
function withNul(s: string): string {
  if (s.includes(NUL)) return s;
  const chars = Array.from(s);
  const half = Math.ceil(chars.length / 2);
  return `${chars.slice(0, half).join('')}${NUL}${chars.slice(half).join('')}`;
}

export function nulStrings(w: World, rng: Rng, req: NulStringsRequest): NulStringsReport {
  const share = req.share;
  if (typeof share !== 'number' || !Number.isFinite(share) || share < 0 || share > 1) throw new Error(`share must be a number from 0 to 1 (got ${JSON.stringify(share)})`);
  const live = w.people.filter((p) => !p.deleted);
  const chosen = rng.sample(live, Math.round(share * live.length));
  const report: NulStringsReport = { personIds: [], messageIds: [], tag: null, tunnelId: null };
  for (const p of chosen) {
    p.name = withNul(p.name);
    const fields = materialiseExtras(w, p).customFields;
    if (fields.length > 0) {
      const f = rng.pick(fields);
      f.value = withNul(f.value);
    } else fields.push({ type: 'KEYWORD', name: 'note', value: withNul('pasted text') });
    // A channel of a person who never wrote (neverWrote knob) stays without a history.
    for (const c of p.channels.filter((x) => !w.isSilentChannel(x))) {
      const texts = materialiseMessages(w, c).filter((m) => m.text !== '');
      if (texts.length === 0) continue;
      const m = rng.pick(texts);
      m.text = withNul(m.text);
      report.messageIds.push(m.id);
      break;
    }
    report.personIds.push(p.id);
  }
  const tagged = chosen.flatMap((p) => p.tags).filter((t) => !t.includes(NUL));
  if (tagged.length > 0) {
    const old = rng.pick(tagged);
    const tag = w.tagsByName.get(old);
    if (tag) {
      tag.name = withNul(old);
      w.tagsByName.delete(old);
      w.tagsByName.set(tag.name, tag);
      for (const p of w.people) if (p.tags.includes(old)) p.tags = p.tags.map((t) => (t === old ? tag.name : t));
      report.tag = tag.name;
    }
  }
  // A tunnel's name: in the tunnel list, its detail and the people's subscribe histories.
  const tunnel = w.tunnels[0];
  if (tunnel) {
    tunnel.name = withNul(tunnel.name);
    report.tunnelId = tunnel.id;
  }
  return report;
}

import { BudgetExhausted, answerOf, isStatus, madeUpId, type Check, type DoctorContext } from './types.js';

/** Finding `chat_path`: what GET /communication-channels/{id}/chat-messages does with each kind of id. */
export interface ChatPathFinding {
  /** `ok` (answers, with totalCount) or the error answer. */
  channelId: string;
  /** `not_found`, `empty`, `messages` (it takes person ids too) or the error answer. */
  personId: string;
}

async function chatAnswer(dc: DoctorContext, id: string): Promise<{ answer: string; items: number }> {
  try {
    const p = await dc.call(() => dc.client.chatMessagesPage(id, { limit: 5 }));
    return { answer: p.items.length > 0 ? 'messages' : 'empty', items: p.items.length };
  } catch (err) {
    if (err instanceof BudgetExhausted) throw err;
    return { answer: isStatus(err, 404) ? 'not_found' : answerOf(err), items: 0 };
  }
}

/**
 * The docs name the parameter `{person_id}` and describe it as the channel id; the sync sends
 * channel ids. Both kinds are asked, so a server that wants person ids is caught here.
 */
export async function checkChatPath(dc: DoctorContext): Promise<{ check: Check; finding: ChatPathFinding | null }> {
  const { channelId, channelPersonId } = dc.seen;
  if (!channelId || !channelPersonId) {
    return { check: { name: 'chat_path', ok: true, detail: 'no channel to ask about', action: 'history is read by channel id, as the docs describe' }, finding: null };
  }
  const byChannel = await chatAnswer(dc, channelId);
  const byPerson = await chatAnswer(dc, channelPersonId);
  const finding: ChatPathFinding = { channelId: byChannel.answer === 'not_found' ? 'not_found' : /^(messages|empty)$/.test(byChannel.answer) ? 'ok' : byChannel.answer, personId: byPerson.answer };
  const ok = finding.channelId === 'ok';
  return {
    check: {
      name: 'chat_path',
      ok,
      detail: `channel id ${channelId}: ${byChannel.answer === 'messages' ? 'answers with messages' : byChannel.answer}; person id ${channelPersonId}: ${byPerson.answer.replace('_', ' ')}`,
      action: ok
        ? 'history is read by channel id'
        : byPerson.answer === 'messages'
          ? 'not safe: the route wants person ids, the sync sends channel ids and would mirror no history'
          : 'not safe: the history route does not answer for channel ids',
    },
    finding,
  };
}

/** Finding `unknown_id`: the answer of each detail route to an id no record has. */
export type UnknownIdFinding = Record<string, string>;

/** What a made-up 24-hex id gets on each detail route: a 404 is the only answer that means "no such record". */
export async function checkUnknownIds(dc: DoctorContext): Promise<{ check: Check; finding: UnknownIdFinding }> {
  const c = dc.client;
  const id = madeUpId();
  const routes: [string, () => Promise<unknown>][] = [
    ['people', () => c.getPerson(id)],
    ['orders', () => c.getOrder(id)],
    ['tunnels', () => c.getTunnel(id)],
    ['users', () => c.getUser(id)],
    ['channel_person', () => c.getChannelPerson(id)],
    ['chat_messages', async () => (await dc.call(() => c.chatMessagesPage(id, { limit: 1 }))).items],
  ];
  const finding: UnknownIdFinding = {};
  for (const [name, run] of routes) {
    try {
      const r = await dc.call(run);
      finding[name] = Array.isArray(r) && r.length === 0 ? '200 empty' : '200 with data';
    } catch (err) {
      if (err instanceof BudgetExhausted) throw err;
      finding[name] = answerOf(err);
    }
  }
  const bad = Object.entries(finding).filter(([, v]) => v === '200 with data');
  const not404 = Object.entries(finding).filter(([, v]) => !v.startsWith('404'));
  return {
    check: {
      name: 'unknown_id',
      ok: bad.length === 0,
      detail: Object.entries(finding).map(([k, v]) => `${k}: ${v}`).join(', '),
      action:
        bad.length > 0
          ? `not safe: ${bad.map(([k]) => k).join(', ')} answer a made-up id with data`
          : not404.length === 0
            ? 'a detail 404 may be a deletion: marked only after a second look confirms it, behind the delete breaker'
            : `${not404.map(([k]) => k).join(', ')} do not answer 404: such answers are never read as "deleted"`,
    },
    finding,
  };
}

import type { StreamDef } from './context.js';
import people from './streams/people.js';
import communicationChannels from './streams/communication_channels.js';
import chatMessages from './streams/chat_messages.js';
import orders from './streams/orders.js';
import tags from './streams/tags.js';
import users from './streams/users.js';
import tunnels from './streams/tunnels.js';
import leadgentools from './streams/leadgentools.js';
import tunnelStats from './streams/tunnel_stats.js';
import connections from './streams/connections.js';
import templateCategories from './streams/template_categories.js';
import messageTemplates from './streams/message_templates.js';
import accounts from './streams/accounts.js';

/** Every stream, by name. Adding a stream: one file in streams/ and one line here. */
export const STREAMS: readonly StreamDef[] = [
  people,
  communicationChannels,
  chatMessages,
  orders,
  tags,
  users,
  tunnels,
  leadgentools,
  tunnelStats,
  connections,
  templateCategories,
  messageTemplates,
  accounts,
];

export const STREAM_NAMES = STREAMS.map((s) => s.name);

export function streamByName(name: string): StreamDef | undefined {
  return STREAMS.find((s) => s.name === name);
}

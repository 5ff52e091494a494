import { flat } from './format.js';

/**
 * Deterministic 24-hex ids shaped like MongoDB ObjectIds (the API's ids are ObjectIds): 8 hex of
 * the creation time in seconds, then 2 hex naming the entity kind, then 14 hex of the entity's
 * index. The index part lets the store find people, channels and orders by id without a Map.
 */

export const KIND = {
  person: 0x01,
  channel: 0x02,
  message: 0x03,
  order: 0x04,
  user: 0x05,
  tunnel: 0x06,
  leadgentool: 0x07,
  trafficSource: 0x08,
  tag: 0x09,
  connection: 0x0a,
  category: 0x0b,
  template: 0x0c,
  comment: 0x0d,
  offer: 0x0e,
  paymentCredit: 0x0f,
  company: 0x10,
  button: 0x11,
} as const;

export type Kind = (typeof KIND)[keyof typeof KIND];

const HEX24 = /^[0-9a-fA-F]{24}$/;

/**
 * 24-hex, either case (an ObjectId parses case-insensitively); anything else is a FORMAT_ERROR.
 * Callers lower-case an id before looking it up: stored ids are lower-case.
 */
export function isObjectId(value: unknown): value is string {
  return typeof value === 'string' && HEX24.test(value);
}

function tsHex(ms: number): string {
  return Math.max(0, Math.floor(ms / 1000))
    .toString(16)
    .padStart(8, '0')
    .slice(-8);
}

export function objectId(ms: number, kind: Kind, index: number): string {
  return flat(tsHex(ms) + kind.toString(16).padStart(2, '0') + index.toString(16).padStart(14, '0'));
}

/** A chat message id: the channel index and the message's position in that channel's history. */
export function messageId(ms: number, channelIndex: number, position: number): string {
  return (
    tsHex(ms) +
    KIND.message.toString(16).padStart(2, '0') +
    channelIndex.toString(16).padStart(8, '0') +
    position.toString(16).padStart(6, '0')
  );
}

/** The index encoded in an id of the given kind, or -1 when the id is not of that kind. */
export function indexOf(id: string, kind: Kind): number {
  if (!isObjectId(id) || parseInt(id.slice(8, 10), 16) !== kind) return -1;
  const n = parseInt(id.slice(10), 16);
  return Number.isSafeInteger(n) ? n : -1;
}

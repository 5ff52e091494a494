import { describe, expect, it } from 'vitest';
import { splitTarget } from '../../src/sim/server.js';

/** What the simulator read from a request target before its fast path: the WHATWG URL parse. */
function viaUrl(target: string): { pathname: string; query: [string, string][] } {
  const url = new URL(`http://sim.local${target.startsWith('/') ? '' : '/'}${target}`);
  return { pathname: url.pathname, query: [...url.searchParams] };
}

describe('splitTarget', () => {
  const targets = [
    '/api/v2/people?filter[last_message][from]=2000-01-01&filter[last_message][to]=2100-01-01T00%3A00%3A00.000Z&limit=100&offset=200',
    '/api/v2/people/5e1c0a0b0c0d0e0f10111213?include=contactedUsers,orders',
    '/api/v2/communication-channels/5e1c0a0b0c0d0e0f10111213/chat-messages?limit=100&offset=0',
    '/api/v2/tags',
    '/api/v2/tags/',
    '/api/v2//people?limit=2',
    '/api/v2/../v2/tags',
    '/api/v2/%2e%2e/tags',
    '/api/v2/people/%35e1c',
    '/api/v2/people/a.b',
    'api/v2/tags?limit=1',
    '',
    '/',
    '/?',
    '/a?x=1#frag',
    '/a?x=%zz&y=%41',
    '/a?x=+y&z=a+b',
    '/a?x="quoted"&y=\'single\'',
    '/a?x=é&y=тег',
    '/a?x=\ty',
    '/a?x=<b>&&y=&=z&k',
    '/a\\b?x=1',
    '/a b?x=1',
  ];
  it.each(targets)('%j reads as the URL parser reads it', (target) => {
    const got = splitTarget(target);
    expect({ pathname: got.pathname, query: [...got.query] }).toEqual(viaUrl(target));
  });
});

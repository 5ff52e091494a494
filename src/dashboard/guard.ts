import { BlockList, isIP } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/*
 * Two guards in front of every dashboard route:
 *  - DNS rebinding: a page on attacker.example.com whose name the attacker re-points at
 *    127.0.0.1 talks to the loopback dashboard as its own origin, so the browser sends
 *    `Host: attacker.example.com`. Only Host values naming this dashboard are served (421 else).
 *  - Cross-site requests: a form on any site can POST here (a "simple" request, no preflight).
 *    State-changing methods need proof of a same-origin caller: an Origin or
 *    Sec-Fetch-Site: same-origin from the browser (bull-board's UI sends both with its axios
 *    PUT/PATCH calls), or, from a non-browser client, a header no cross-site form can set.
 */

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const unbracket = (h: string) => h.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();

/** Loopback by address: 127.0.0.0/8, ::1 (also `[::1]` and IPv4-mapped), or literally `localhost`. */
export function isLoopbackAddress(host: string): boolean {
  const h = unbracket(host);
  if (h === 'localhost') return true;
  const family = isIP(h);
  if (family === 4) return LOOPBACK.check(h, 'ipv4');
  if (family === 6) {
    const mapped = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    if (mapped) return LOOPBACK.check(mapped[1] as string, 'ipv4');
    return LOOPBACK.check(h, 'ipv6');
  }
  return false;
}

/** The host name of a Host header (`name`, `name:port`, `[v6]:port`), lower-case; undefined if malformed. */
export function hostOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const v = header.trim().toLowerCase();
  const m = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(v) ?? /^([a-z0-9.-]+)(?::(\d{1,5}))?$/.exec(v);
  if (!m) return undefined;
  return (m[1] as string).replace(/\.$/, '');
}

const WILDCARD = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

function sameAddress(a: string, b: string): boolean {
  const fa = isIP(a);
  if (fa === 0 || fa !== isIP(b)) return false;
  const list = new BlockList();
  list.addAddress(a, fa === 4 ? 'ipv4' : 'ipv6');
  return list.check(b, fa === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Whether a Host header names this dashboard: `localhost`, an entry of DASHBOARD_ALLOWED_HOSTS,
 * the bound address (any loopback address when bound to loopback; any IP literal when bound to
 * all interfaces: an address cannot be rebound, only a name can).
 */
export function hostAllowed(header: string | undefined, bound: string, allowed: readonly string[] = []): boolean {
  const h = hostOf(header);
  if (h === undefined) return false;
  if (h === 'localhost' || allowed.includes(h)) return true;
  const b = unbracket(bound);
  if (h === b) return true;
  if (isIP(h) === 0) return false;
  if (WILDCARD.has(b)) return true;
  if (isLoopbackAddress(b) && isLoopbackAddress(h)) return true;
  return sameAddress(b, h);
}

export function hostGuard(bound: string, allowed: readonly string[] = []): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (hostAllowed(req.headers.host, bound, allowed)) {
      next();
      return;
    }
    res.status(421).type('text/plain').send('misdirected request: this Host is not served here (add it to DASHBOARD_ALLOWED_HOSTS if it should be)\n');
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Why a state-changing request is refused as possibly cross-site, or undefined to let it through. */
export function crossSiteReason(req: Pick<Request, 'method' | 'headers'>): string | undefined {
  if (SAFE_METHODS.has(req.method.toUpperCase())) return undefined;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return `Sec-Fetch-Site is ${site}`;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    return host !== undefined && host.toLowerCase() === (req.headers.host ?? '').toLowerCase() ? undefined : 'the Origin is another site';
  }
  if (site === 'same-origin') return undefined;
  // No browser provenance at all (curl, scripts): a header a cross-site form cannot send.
  if (req.headers['x-requested-with'] !== undefined) return undefined;
  if (/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return undefined;
  return 'no Origin, no Sec-Fetch-Site: same-origin, no X-Requested-With and no JSON body';
}

export function sameOriginGuard(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const reason = crossSiteReason(req);
    if (reason === undefined) {
      next();
      return;
    }
    res.status(403).type('text/plain').send(`forbidden: a state-changing request must come from this dashboard's own pages (${reason})\n`);
  };
}

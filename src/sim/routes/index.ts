import { catalogRoutes } from './catalog.js';
import { channelRoutes } from './channels.js';
import type { Route } from './common.js';
import { orderRoutes } from './orders.js';
import { peopleRoutes } from './people.js';
import { v1Routes } from './v1.js';

/** All 32 documented endpoints (29 v2, 3 v1). Literal segments are listed before `:id` ones. */
export const ROUTES: readonly Route[] = [...peopleRoutes, ...channelRoutes, ...orderRoutes, ...catalogRoutes, ...v1Routes];

interface Compiled {
  route: Route;
  segments: string[];
  /** `method route` as the request counters name it, built once. */
  key: string;
}

/**
 * The table grouped by method and number of segments, each group in ROUTES order (so a literal
 * segment still wins over `:id`): a request is compared only with the few routes of its shape.
 */
const byShape = new Map<string, Compiled[]>();
for (const route of ROUTES) {
  const segments = route.template.split('/').filter(Boolean);
  const shape = `${route.method} ${segments.length}`;
  let group = byShape.get(shape);
  if (!group) byShape.set(shape, (group = []));
  group.push({ route, segments, key: `${route.method} ${route.template}` });
}

export interface Match {
  route: Route;
  params: Record<string, string>;
  /** `method route`, e.g. `GET /api/v2/people/:id` (the request counters' key). */
  key: string;
}

/** The route for a method and path; a path known under another method does not match (404, like the API). */
export function matchRoute(method: string, path: string): Match | null {
  const parts = path.split('/').filter(Boolean);
  const group = byShape.get(`${method} ${parts.length}`);
  if (!group) return null;
  for (const { route, segments, key } of group) {
    let ok = true;
    for (let i = 0; i < segments.length && ok; i++) {
      const s = segments[i] as string;
      ok = s.charCodeAt(0) === 58 /* : */ || s === parts[i];
    }
    if (!ok) continue;
    // Params only for the route that matched.
    const params: Record<string, string> = {};
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i] as string;
      if (s.charCodeAt(0) !== 58) continue;
      const p = parts[i] as string;
      try {
        params[s.slice(1)] = decodeURIComponent(p);
      } catch {
        params[s.slice(1)] = p;
      }
    }
    return { route, params, key };
  }
  return null;
}

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
}

const compiled: Compiled[] = ROUTES.map((route) => ({ route, segments: route.template.split('/').filter(Boolean) }));

export interface Match {
  route: Route;
  params: Record<string, string>;
}

/** The route for a method and path; a path known under another method does not match (404, like the API). */
export function matchRoute(method: string, path: string): Match | null {
  const parts = path.split('/').filter(Boolean);
  for (const { route, segments } of compiled) {
    if (route.method !== method || segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < segments.length && ok; i++) {
      const s = segments[i] as string;
      const p = parts[i] as string;
      if (s.startsWith(':')) {
        try {
          params[s.slice(1)] = decodeURIComponent(p);
        } catch {
          params[s.slice(1)] = p;
        }
      } else ok = s === p;
    }
    if (ok) return { route, params };
  }
  return null;
}

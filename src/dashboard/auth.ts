import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Env } from '../config.js';
import { ConfigError } from '../errors.js';
import { isLoopbackAddress } from './guard.js';

/*
 * Who may see the dashboard (queues with job payloads and errors, mirror state, /metrics):
 *  - bound to a loopback address without credentials: everyone on this machine, no password;
 *  - credentials configured (DASHBOARD_USER + DASHBOARD_PASSWORD): every route, /metrics
 *    included, asks for them, wherever it is bound (Prometheus scrapes with basic_auth);
 *  - a non-loopback address without credentials: refused at start.
 * So /metrics is open only when the whole dashboard is, and that is only ever on loopback.
 */

/** By address, not by name: `evil.localhost` is not loopback (see isLoopbackAddress). */
export function isLoopbackHost(host: string): boolean {
  return isLoopbackAddress(host);
}

export interface DashboardCredentials {
  user: string;
  password: string;
}

/** The credentials to demand, or none; throws (exit 2) for an exposed address without them. */
export function dashboardAccess(env: Pick<Env, 'DASHBOARD_HOST' | 'DASHBOARD_USER' | 'DASHBOARD_PASSWORD'>): DashboardCredentials | undefined {
  const creds = env.DASHBOARD_USER && env.DASHBOARD_PASSWORD ? { user: env.DASHBOARD_USER, password: env.DASHBOARD_PASSWORD } : undefined;
  if (!creds && !isLoopbackHost(env.DASHBOARD_HOST)) {
    throw new ConfigError(
      `DASHBOARD_HOST=${env.DASHBOARD_HOST} is not a loopback address: set DASHBOARD_USER and DASHBOARD_PASSWORD to protect the dashboard, or bind 127.0.0.1`,
    );
  }
  return creds;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** HTTP basic auth; compares digests in constant time so neither length nor prefix leaks. */
export function basicAuth(creds: DashboardCredentials): RequestHandler {
  const want = digest(`${creds.user}:${creds.password}`);
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (m && timingSafeEqual(digest(Buffer.from(m[1]!, 'base64').toString('utf8')), want)) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', 'Basic realm="leeloo-sync", charset="UTF-8"');
    res.status(401).type('text/plain').send('authentication required\n');
  };
}

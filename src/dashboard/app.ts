import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import type { Env } from '../config.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { basicAuth, dashboardAccess } from './auth.js';
import { hostGuard, sameOriginGuard } from './guard.js';
import { readMirrorOverview, renderMirrorPage } from './mirror.js';
import { readReportPage } from './reports.js';
import { dashboardStore, type DashboardStore } from './store.js';

export interface DashboardOptions {
  env: Pick<Env, 'DASHBOARD_HOST' | 'DASHBOARD_PORT' | 'DASHBOARD_USER' | 'DASHBOARD_PASSWORD'> & Partial<Pick<Env, 'DASHBOARD_ALLOWED_HOSTS'>>;
  /** The mirror: its SQLite file, or its DATABASE_URL (a postgres:// URL). */
  mirrorPath: string;
  metrics: Metrics;
  logger: Logger;
  /**
   * The read-only store to share with others in the process (the worker's metrics scrape); its
   * owner closes it. Default: the dashboard opens one of its own and closes it with itself.
   */
  mirror?: DashboardStore;
  /** The queue UI (bull-board), mounted by jobs/ — src/ does not know about BullMQ. */
  board?: { basePath: string; router: RequestHandler };
}

export interface Dashboard {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const QUEUES_PATH = '/queues';

/** The app; `mirror` is the one read-only store its requests share (startDashboard closes it). */
export function dashboardApp(opts: DashboardOptions, mirror: DashboardStore): express.Express {
  // Throws for a non-loopback address without credentials; checked again here so no caller can forget.
  const creds = dashboardAccess(opts.env);
  const app = express();
  app.disable('x-powered-by');
  app.use(hostGuard(opts.env.DASHBOARD_HOST, opts.env.DASHBOARD_ALLOWED_HOSTS));
  if (creds) app.use(basicAuth(creds));
  app.use(sameOriginGuard());
  app.get('/', (_req, res) => res.redirect(302, '/mirror'));
  app.get('/mirror', async (_req, res) => {
    try {
      res.type('html').send(renderMirrorPage(await readMirrorOverview(mirror), { queues: `${QUEUES_PATH}/`, metrics: '/metrics', json: '/mirror.json' }));
    } catch (err) {
      res.status(503).type('text/plain').send(`mirror unavailable: ${errorMessage(err)}\n`);
    }
  });
  app.get('/mirror.json', async (_req, res) => {
    try {
      res.json(await readMirrorOverview(mirror));
    } catch (err) {
      res.status(503).json({ error: errorMessage(err) });
    }
  });
  app.get('/reports', async (req, res) => {
    try {
      res.type('html').send(await readReportPage(mirror, typeof req.query.range === 'string' ? req.query.range : undefined));
    } catch (err) {
      res.status(503).type('text/plain').send(`reports unavailable: ${errorMessage(err)}\n`);
    }
  });
  app.get('/metrics', async (_req, res) => {
    try {
      const body = await opts.metrics.registry.metrics();
      res.setHeader('Content-Type', opts.metrics.registry.contentType);
      res.send(body);
    } catch (err) {
      res.status(500).type('text/plain').send(`metrics unavailable: ${errorMessage(err)}\n`);
    }
  });
  if (opts.board) app.use(opts.board.basePath, opts.board.router);
  return app;
}

/** Serves the dashboard on DASHBOARD_HOST:DASHBOARD_PORT (port 0: any free port). */
export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const mirror = opts.mirror ?? dashboardStore(opts.mirrorPath);
  const app = dashboardApp(opts, mirror);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(opts.env.DASHBOARD_PORT, opts.env.DASHBOARD_HOST, (err?: Error) => {
      if (err) reject(err);
      else resolve(s);
    });
    s.once('error', reject);
  }).catch((err: unknown) => {
    throw new Error(`dashboard cannot listen on ${opts.env.DASHBOARD_HOST}:${opts.env.DASHBOARD_PORT}: ${errorMessage(err)}`);
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  opts.logger.info({ url, queues: `${url}${QUEUES_PATH}/`, metrics: `${url}/metrics`, auth: Boolean(opts.env.DASHBOARD_USER) }, 'dashboard listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    port: addr.port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => (opts.mirror ? undefined : mirror.close()))),
  };
}

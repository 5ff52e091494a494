import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Express, RequestHandler } from 'express';

/** bull-board for the given queues, as a router to mount at `basePath` of the dashboard. */
export function queueBoard(queues: Queue[], basePath: string): { basePath: string; router: RequestHandler } {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'leeloo-sync' } },
  });
  // The adapter's own express app would announce itself with X-Powered-By.
  const app = serverAdapter.getRouter() as Express;
  app.disable('x-powered-by');
  return { basePath, router: app };
}

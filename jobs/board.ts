import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { RequestHandler } from 'express';

/** bull-board for the given queues, as a router to mount at `basePath` of the dashboard. */
export function queueBoard(queues: Queue[], basePath: string): { basePath: string; router: RequestHandler } {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'leeloo-sync' } },
  });
  return { basePath, router: serverAdapter.getRouter() as RequestHandler };
}

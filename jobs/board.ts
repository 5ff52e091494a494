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
    // @bull-board/express 9.10.1 nests its own @bull-board/api 9.10.1 next to our 9.10.2: the
    // two BaseAdapter declarations differ only in private fields, so the types disagree while
    // the objects work together.
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'leeloo-sync' } },
  });
  return { basePath, router: serverAdapter.getRouter() as RequestHandler };
}

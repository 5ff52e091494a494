/**
 * Prometheus metrics of the write-backs, registered on the worker's registry:
 *   leeloo_sync_writes_total{kind,outcome}   delivery attempts by operation and outcome
 *                                           (succeeded, retry, rate_limited, failed, dead, ambiguous)
 *   leeloo_sync_outbox_rows{status}          outbox rows per status, read from the mirror at scrape time
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Store } from '../db/store/types.js';
import { WRITE_STATUSES } from './statuses.js';
import { countWrites } from './outbox.js';

export interface WriteMetrics {
  onOutcome(kind: string, outcome: string): void;
}

export function registerWriteMetrics(registry: Registry, store: Store): WriteMetrics {
  const registers = [registry];
  const writes = new Counter({ name: 'leeloo_sync_writes_total', help: 'Write-back delivery attempts by operation and outcome.', labelNames: ['kind', 'outcome'], registers });
  new Gauge({
    name: 'leeloo_sync_outbox_rows',
    help: 'Outbox rows (outbound_writes) per status, read from the mirror at scrape time.',
    labelNames: ['status'],
    registers,
    async collect() {
      this.reset();
      const by = new Map<string, number>(WRITE_STATUSES.map((s) => [s, 0]));
      try {
        for (const r of await countWrites(store)) by.set(r.status, (by.get(r.status) ?? 0) + r.n);
      } catch {
        return; // the database is locked or unreachable for a moment: report nothing rather than fail the scrape
      }
      for (const [status, n] of by) this.set({ status }, n);
    },
  });
  return { onOutcome: (kind, outcome) => writes.inc({ kind, outcome }) };
}

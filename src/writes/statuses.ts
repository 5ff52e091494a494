/**
 * The statuses of an outbox row (outbound_writes.status):
 *
 * pending   — waiting for the worker's relay to queue it
 * queued    — a job for it exists in the queue (or existed; the worker re-creates lost ones)
 * succeeded — the API accepted it and the mirror reflects it
 * failed    — bad input: never sent (validation, unknown tag name, malformed SQL row)
 * dead      — the API refused it for good (4xx other than 408/429), or attempts ran out
 * ambiguous — a non-idempotent write may or may not have been applied; never resent on its own
 * cancelled — cancelled by `outbox cancel`
 */
export const WRITE_STATUSES = ['pending', 'queued', 'succeeded', 'failed', 'dead', 'ambiguous', 'cancelled'] as const;
export type WriteStatus = (typeof WRITE_STATUSES)[number];

/** Statuses the worker may still deliver. */
export const OPEN_STATUSES: readonly WriteStatus[] = ['pending', 'queued'];
/** Statuses `outbox retry` turns back into pending. */
export const RETRYABLE_STATUSES: readonly WriteStatus[] = ['failed', 'dead', 'ambiguous', 'cancelled'];
/** Statuses `outbox cancel` accepts. */
export const CANCELLABLE_STATUSES: readonly WriteStatus[] = ['pending', 'queued', 'failed', 'dead', 'ambiguous'];

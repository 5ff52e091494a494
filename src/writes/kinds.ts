/**
 * The write-back operations and the outbox statuses. One operation per write endpoint of the
 * Leeloo docs (seeds/leeloo-api-v2.txt); numbers in comments follow leeloo-api.md's index.
 */

export const WRITE_KINDS = [
  'add-tag', // 21. PUT /people/{id}/add-tag
  'remove-tag', // 20. PUT /people/{id}/remove-tag
  'add-comment', // 18. PUT /people/{id}/add-comment
  'update-person', // 15. PUT /people/{id}
  'create-person', // 16. POST /people
  'add-sms-connection', // 17. POST /people/sms
  'update-order', // 12. POST /orders/{id}
  'create-order', // 9. POST /orders
  'send-message', // 5. POST /messages/send-message
  'send-template', // 3. POST /messages/send-template
  'manual-subscribe', // 29. POST /communication-channels/{account_id}/manual-subscribe
  'create-traffic-source', // 8. POST /leadgentools/{id}/create-traffic-source
] as const;
export type WriteKind = (typeof WRITE_KINDS)[number];

export function isWriteKind(v: unknown): v is WriteKind {
  return typeof v === 'string' && (WRITE_KINDS as readonly string[]).includes(v);
}

/**
 * pending   — waiting for the worker's relay to queue it
 * queued    — a BullMQ job `outbox-<id>` exists (or existed; the worker re-creates lost ones)
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

/** What the row's target_id names, per operation; used in error messages and the CLI's options. */
export type TargetRole = 'person' | 'order' | 'channel' | 'leadgentool';

export interface KindInfo {
  target: TargetRole;
  /**
   * Whether sending twice leaves the same state as sending once. Only these are resent after a
   * failure that may have happened after the server did the work (timeout, dropped connection,
   * 5xx, a worker killed mid-request); the others become `ambiguous`.
   */
  idempotent: boolean;
  summary: string;
}

export const KIND_INFO: Record<WriteKind, KindInfo> = {
  'add-tag': { target: 'person', idempotent: true, summary: 'add a tag (name or id) to a person' },
  'remove-tag': { target: 'person', idempotent: true, summary: 'remove a tag (name or id) from a person' },
  // A PUT, but every call stores another comment (docs: add-comment answers a new comment id).
  'add-comment': { target: 'person', idempotent: false, summary: 'add a comment to a person' },
  'update-person': { target: 'person', idempotent: true, summary: "set a person's phone, email or custom fields" },
  'create-person': { target: 'leadgentool', idempotent: false, summary: 'create a person through a leadgentool' },
  'add-sms-connection': { target: 'leadgentool', idempotent: false, summary: 'add SMS contacts through a leadgentool and connection' },
  'update-order': { target: 'order', idempotent: true, summary: 'resolve or reject a MANUAL order' },
  'create-order': { target: 'person', idempotent: false, summary: 'create a manual order for a person' },
  'send-message': { target: 'channel', idempotent: false, summary: 'send a text message to a channel' },
  'send-template': { target: 'channel', idempotent: false, summary: 'send a message template to a channel' },
  'manual-subscribe': { target: 'channel', idempotent: true, summary: 'subscribe a channel to a tunnel block' },
  'create-traffic-source': { target: 'leadgentool', idempotent: false, summary: 'create a traffic source in a leadgentool' },
};

export type CustomFieldType = 'EMAIL' | 'PHONE' | 'DATE' | 'KEYWORD' | 'NUMBER';

/**
 * The payload of each operation as accepted from the typed function, the CLI and SQL (the
 * `payload` JSON column). Ids are 24-hex; tags may be names (resolved through the mirrored tags
 * table) or ids.
 */
export interface WritePayloads {
  'add-tag': { tag?: string; tag_id?: string };
  'remove-tag': { tag?: string; tag_id?: string };
  'add-comment': { text: string };
  'update-person': { phone?: string; email?: string; custom_fields?: { type: CustomFieldType; name: string; value: string | number }[] };
  'create-person': { name: string; email: string; phone: string; connected_users_ids?: string[] };
  'add-sms-connection': { connection_id: string; data: { name: string; phone: string; email?: string }[]; tags?: string[] };
  'update-order': { status: 'RESOLVED' | 'REJECTED'; price?: number | string; currency?: string; paymentDate?: string; userComments?: string };
  'create-order': {
    offerId: string;
    paymentCreditsId: string;
    email?: string;
    phone?: string;
    transactionDate?: string;
    isNotifyAccount?: boolean | 'true' | 'false';
    managerId?: string;
  };
  'send-message': { text: string };
  'send-template': { template_id: string; variables?: Record<string, string | number> };
  'manual-subscribe': { tunnel_id: string; tunnel_block_id: string };
  'create-traffic-source': { name: string; description?: string };
}

/** A write request: the same three things a SQL INSERT gives (kind, target_id, payload). */
export type WriteRequest = {
  [K in WriteKind]: { kind: K; target: string; payload: WritePayloads[K] };
}[WriteKind];

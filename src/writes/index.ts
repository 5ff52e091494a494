/** Write-backs to Leeloo through the outbox (outbound_writes). See README "Write-backs". */
export { WRITE_KINDS, KIND_INFO, isWriteKind, type WriteKind, type KindInfo, type TargetRole } from './operations.js';
export * from './statuses.js';
export {
  normalizeWrite,
  resolveTag,
  mirrorTags,
  tagsFor,
  type WritePayloads,
  type WriteRequest,
  type NormalizedWrite,
  type NormalizedPayloads,
  type TagLookup,
} from './validate.js';
export {
  enqueueWrite,
  enqueueWrites,
  getWrite,
  listWrites,
  countWrites,
  retryWrite,
  cancelWrite,
  type OutboxRow,
  type EnqueueOptions,
  type ListFilter,
} from './outbox.js';
export { deliver, type DeliveryOutcome, type DeliverOptions } from './deliver.js';
export { backoffDelay, retryDelayFor, DEFAULT_WRITE_BACKOFF, type WriteBackoff } from './backoff.js';
export { reflectWrite, PROVISIONAL_MESSAGE_PREFIX } from './reflect.js';
export { registerWriteMetrics, type WriteMetrics } from './metrics.js';

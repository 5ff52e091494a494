/**
 * The defaults that both the configuration (src/config.ts, the environment) and the code used
 * without it (the API client and its transport, from tests, the bench or a script) fall back to.
 * Each is written here once; README's configuration table states them for users.
 */

/** LEELOO_API_URL: the API base, without `/api/v2`. */
export const DEFAULT_BASE_URL = 'https://api.leeloo.ai';
/** LEELOO_TIMEOUT_MS: one whole exchange (connect, headers, body). */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** LEELOO_MAX_RETRIES: retries of a retryable failure after the first attempt. */
export const DEFAULT_MAX_RETRIES = 6;
/** LEELOO_RATE_LIMIT: requests per second, client side. */
export const DEFAULT_RATE_LIMIT = 10;
/** LEELOO_PAGE_SIZE: `limit` of list requests (a smaller server cap is detected and followed). */
export const DEFAULT_PAGE_SIZE = 100;
/** LEELOO_MAX_RESPONSE_BYTES: far above any page of 1000 rows, far below a crash. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** LEELOO_RATE_LIMIT_MAX: the ceiling of the learned (`auto`) rate, requests per second. */
export const DEFAULT_RATE_LIMIT_MAX = 200;

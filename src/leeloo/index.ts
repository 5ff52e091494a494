export * from './client.js';
export { ApiCaller, formatPath, type CallSpec, type ApiCallerOptions } from './caller.js';
export * from './schemas.js';
export * from './endpoints.js';
export * from './rate-limit.js';
export * from './retry.js';
export * from './dates.js';
export * from './sentinels.js';
export { HttpTransport, buildQuery, DEFAULT_BASE_URL, type HttpRequest, type HttpResponse, type HttpMethod, type QueryValue } from './http.js';

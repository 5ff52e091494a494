import { expect } from 'vitest';
import { ApiError } from '../../src/errors.js';

/** What `p` is rejected with, which must be an ApiError. */
export async function rejection(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
}

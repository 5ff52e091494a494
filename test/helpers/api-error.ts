import { expect } from 'vitest';
import { ApiError } from '../../src/errors.js';

/** The ApiError `p` rejects with (fails the test when it resolves or rejects with anything else). */
export async function apiErrorOf(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
}

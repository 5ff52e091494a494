import { expect } from 'vitest';
import { ApiError, ConfigError } from '../../src/errors.js';

/** What `p` is rejected with, which must be an ApiError. */
export async function rejection(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
}

/** The message of the ConfigError `fn` must throw. */
export function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('not refused');
}

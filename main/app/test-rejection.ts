// For tests: the ApiError a call rejects with (fails the test when it resolves).
import type { ApiError } from '../../shared/errors.ts';

export async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected a rejection');
}

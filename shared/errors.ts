import type { ApiErrorCode } from './api.ts';

/** An error a user can act on; crosses the main/renderer boundary with its code and message. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

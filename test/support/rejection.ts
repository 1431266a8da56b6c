import type { AppError } from '../../src/errors.ts';

/** The error a promise rejects with; a test fails if it resolves instead. */
export const rejection = (promise: Promise<unknown>): Promise<AppError> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err as AppError,
  );

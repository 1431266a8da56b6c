import { AppError, type ErrorCode, ErrorCodes } from '../errors.ts';

/** HTTP-facing kind per code; deadline_exceeded is reported as `unavailable`, as API.md lists. */
const kindOf = (code: ErrorCode): string =>
  (code === 'deadline_exceeded' ? 'unavailable' : code).replaceAll('_', '-');

export const problemType = (code: ErrorCode) => `urn:bunshop:problem:${kindOf(code)}`;

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  reason?: string;
  errors?: { path: string; message: string }[];
}

/** An RFC 9457 problem document with the headers its status calls for. */
export function problemResponse(
  err: AppError,
  extraHeaders: Record<string, string> = {},
): Response {
  const { status, title } = ErrorCodes[err.code];
  const body: ProblemDocument = {
    type: problemType(err.code),
    title: err.code === 'deadline_exceeded' ? ErrorCodes.unavailable.title : title,
    status,
    detail: err.message,
  };
  if (err.details.reason) body.reason = err.details.reason;
  if (err.details.errors) body.errors = err.details.errors;
  // Every validation failure carries errors[], even one about the body as a whole (path "").
  else if (err.code === 'validation') body.errors = [{ path: '', message: err.message }];
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
    ...extraHeaders,
  };
  if (err.code === 'unauthorized') headers['www-authenticate'] = 'Bearer';
  if (status === 429 || status === 503) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(err.details.retryAfter ?? 1)));
  }
  return new Response(JSON.stringify(body), { status, headers });
}

export const notFound = () => new AppError('not_found', 'No resource at this address.');

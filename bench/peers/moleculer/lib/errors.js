import { Errors } from 'moleculer';

const { MoleculerClientError } = Errors;

/**
 * A client error that crosses the transporter intact: `code` is the HTTP status, `type` the
 * problem kind (bunshop's error code), `data.reason` the business reason.
 */
export const appError = (kind, status, message, data) =>
  new MoleculerClientError(message, status, kind, data);

export const notFound = (message) => appError('not_found', 404, message);
export const unauthorized = () =>
  appError('unauthorized', 401, 'The access token is missing, invalid or expired.');
export const unprocessable = (reason, message) =>
  appError('unprocessable', 422, message, { reason });

/** The business reason of a failed saga step, or undefined for any other failure. */
export function businessReason(err) {
  const reason = err?.data?.reason;
  return err?.type === 'unprocessable' &&
    (reason === 'out_of_stock' || reason === 'unknown_item' || reason === 'insufficient_funds')
    ? reason
    : undefined;
}

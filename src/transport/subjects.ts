/** A subject prefix: dot-separated tokens of letters, digits, `-` and `_`; no wildcards or spaces. */
export const subjectPrefixPattern = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const token = /^[A-Za-z0-9_-]+$/;

/**
 * The one place NATS subjects are built: `<prefix>.svc.<module>.<action>`. Module and
 * action names come from contracts, never from a request, and are checked anyway.
 */
export function actionSubject(prefix: string, module: string, action: string): string {
  if (!token.test(module) || !token.test(action)) {
    throw new Error(`not a subject token: ${module}.${action}`);
  }
  return `${prefix}.svc.${module}.${action}`;
}

/** The NATS service name of a module (micro protocol: letters, digits, `-`, `_`). */
export function serviceName(prefix: string, module: string): string {
  return `${prefix.replaceAll('.', '_')}-${module}`;
}

/** A subject prefix: dot-separated tokens of letters, digits, `-` and `_`; no wildcards or spaces. */
export const subjectPrefixPattern = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const token = /^[A-Za-z0-9_-]+$/;

/**
 * The version of a call's format on the wire (wire.ts), in every call subject and service name.
 * Nodes of two versions neither call nor answer each other, nor count as each other's
 * instances: during a rolling deploy a caller finds no responders (503), never a call it
 * misreads. Raise it with any change a node of the previous version would misread.
 */
export const callFormat = 2;

/**
 * The one place NATS subjects are built: `<prefix>.svc.v<callFormat>.<module>.<action>`. Module
 * and action names come from contracts, never from a request, and are checked anyway.
 */
export function actionSubject(prefix: string, module: string, action: string): string {
  if (!token.test(module) || !token.test(action)) {
    throw new Error(`not a subject token: ${module}.${action}`);
  }
  return `${prefix}.svc.v${callFormat}.${module}.${action}`;
}

/** The start of every bunshop service name under `prefix`, whatever its call format. */
export const servicePrefix = (prefix: string): string => `${prefix.replaceAll('.', '_')}-`;

/** The NATS service name of a module (micro protocol: letters, digits, `-`, `_`). */
export function serviceName(prefix: string, module: string): string {
  return `${servicePrefix(prefix)}${module}-v${callFormat}`;
}

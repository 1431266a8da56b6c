/**
 * Fault hooks that only tests turn on:
 * - `BUNSHOP_TEST_CRASH_AFTER=charge:3` kills the process with SIGKILL right after the
 *   third `charge` saga step is persisted;
 * - `BUNSHOP_TEST_DELAY=order.placeOrder:2000` holds every call of that action for 2 s
 *   before it runs, so a test can act while a request is certainly in flight.
 */
const spec = process.env.BUNSHOP_TEST_CRASH_AFTER ?? '';
const [point, nth] = spec.split(':');
let remaining = Number(nth ?? 1) || 1;

export function crashPoint(name: string): void {
  if (!point || name !== point) return;
  remaining -= 1;
  if (remaining === 0) process.kill(process.pid, 'SIGKILL');
}

const [delayed, delayMs] = (process.env.BUNSHOP_TEST_DELAY ?? '').split(':');

/** Resolves at once unless a test asked to hold this action. */
export function delayPoint(module: string, action: string): Promise<void> | undefined {
  // The name is built only when a test holds some action: this runs on every call.
  return delayed && `${module}.${action}` === delayed ? Bun.sleep(Number(delayMs) || 0) : undefined;
}

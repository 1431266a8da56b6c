/**
 * Fault hooks that only tests turn on. `BUNSHOP_TEST_CRASH_AFTER=charge:3` kills the
 * process with SIGKILL right after the third `charge` saga step is persisted.
 */
const spec = process.env.BUNSHOP_TEST_CRASH_AFTER ?? '';
const [point, nth] = spec.split(':');
let remaining = Number(nth ?? 1) || 1;

export function crashPoint(name: string): void {
  if (!point || name !== point) return;
  remaining -= 1;
  if (remaining === 0) process.kill(process.pid, 'SIGKILL');
}

import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';

/** Deadlines fire at most this late; calls expiring within one slot share one timer. */
const slotMs = 20;
type Reject = (err: AppError) => void;
const slots = new Map<number, Set<Reject>>();

/**
 * The set of callers to fail at `deadline`, with its timer started if it is new. Keyed by the
 * deadline itself, so the calls of one request share a slot and only a new slot reads the clock.
 */
function slotAt(deadline: number, clock: Clock): Set<Reject> {
  const at = Math.ceil(deadline / slotMs) * slotMs;
  let slot = slots.get(at);
  if (!slot) {
    const due = new Set<Reject>();
    slots.set(at, due);
    // Unref'd: an idle slot must not keep a finished process (a CLI command) alive.
    setTimeout(
      () => {
        slots.delete(at);
        for (const reject of due) reject(expired());
        // Work that ends after this has lost the race: its outcome is settled by no one.
        due.clear();
      },
      Math.max(0, at - clock.now()),
    ).unref();
    slot = due;
  }
  return slot;
}

const expired = () =>
  new AppError('deadline_exceeded', 'The request deadline passed before the action finished.', {
    retryAfter: 1,
  });

/** What becomes of the work's outcome before the caller sees it; either may throw. */
export interface Settle {
  ok(value: unknown): unknown;
  failed(err: unknown): unknown;
}

/**
 * The caller stops waiting at its deadline, whatever the handler is stuck on (a database that
 * went away, a lock): the answer is `deadline_exceeded`, as over NATS; the work itself runs on.
 * A timer per call cost more than the rest of a direct call, hence the shared slots. `settle`
 * maps the outcome inside the same promise, where a `then` after it would add another.
 */
export function withinDeadline(
  work: Promise<unknown>,
  deadline: number,
  clock: Clock,
  settle: Settle,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const slot = slotAt(deadline, clock);
    slot.add(reject);
    work.then(
      (value) => {
        // Late (the deadline answered already): no output check, no failure logged.
        if (!slot.delete(reject)) return;
        try {
          resolve(settle.ok(value));
        } catch (err) {
          reject(err);
        }
      },
      (err) => {
        if (!slot.delete(reject)) return;
        try {
          reject(settle.failed(err));
        } catch (thrown) {
          reject(thrown);
        }
      },
    );
  });
}

import { AppError } from '../errors.ts';

/** Deadlines fire at most this late; calls expiring within one slot share one timer. */
const slotMs = 20;
const slots = new Map<number, Set<() => void>>();

/** Runs `expire` about `ms` from now unless the returned function cancels it first. */
function watch(ms: number, expire: () => void): () => void {
  const at = Math.ceil((performance.now() + Math.max(0, ms)) / slotMs) * slotMs;
  let slot = slots.get(at);
  if (!slot) {
    const due = new Set<() => void>();
    slots.set(at, due);
    // Unref'd: an idle slot must not keep a finished process (a CLI command) alive.
    setTimeout(
      () => {
        slots.delete(at);
        for (const fn of due) fn();
      },
      Math.max(0, at - performance.now()),
    ).unref();
    slot = due;
  }
  slot.add(expire);
  const watched = slot;
  return () => void watched.delete(expire);
}

/**
 * The caller stops waiting at its deadline, whatever the handler is stuck on (a database that
 * went away, a lock): the answer is `deadline_exceeded`, as over NATS; the work itself runs on.
 * A timer per call cost more than the rest of a direct call, hence the shared slots.
 */
export function withinDeadline<T>(work: Promise<T>, remainingMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = watch(remainingMs, () =>
      reject(
        new AppError(
          'deadline_exceeded',
          'The request deadline passed before the action finished.',
          {
            retryAfter: 1,
          },
        ),
      ),
    );
    work.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (err) => {
        cancel();
        reject(err);
      },
    );
  });
}

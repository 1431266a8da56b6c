import type { Clock } from '../clock.ts';

interface Window {
  count: number;
  resetAt: number;
}

/**
 * Fixed-window counters per key, in memory. Keys are swept when their window ends,
 * so memory stays bounded by the number of keys active in one window.
 */
export class WindowCounter {
  readonly #windows = new Map<string, Window>();
  #nextSweep = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
  ) {}

  /** Seconds until the key may try again, or 0 when it is under its limit. */
  retryAfter(key: string): number {
    const w = this.#current(key);
    if (!w || w.count < this.limit) return 0;
    return Math.ceil((w.resetAt - this.clock.now()) / 1000);
  }

  hit(key: string): void {
    const now = this.clock.now();
    this.#sweep(now);
    const w = this.#current(key);
    if (w) w.count += 1;
    else this.#windows.set(key, { count: 1, resetAt: now + this.windowMs });
  }

  /** Takes back one hit of the current window, e.g. a reserved attempt that did not fail. */
  release(key: string): void {
    const w = this.#current(key);
    if (w && w.count > 0) w.count -= 1;
  }

  #current(key: string): Window | undefined {
    const w = this.#windows.get(key);
    if (w && w.resetAt <= this.clock.now()) {
      this.#windows.delete(key);
      return undefined;
    }
    return w;
  }

  #sweep(now: number): void {
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + Math.min(this.windowMs, 60_000);
    for (const [key, w] of this.#windows) if (w.resetAt <= now) this.#windows.delete(key);
  }
}

export interface SignInLimits {
  perEmail: number;
  perAddress: number;
  windowSeconds: number;
}

/**
 * Failed sign-ins per email and per client address; checked before any password hashing.
 * An attempt reserves its failure slot up front (`attempt`) and gives it back when it turns
 * out not to be a failure (`release`): checking and counting in separate steps would let a
 * concurrent flood through, since every request would pass the check before any had failed.
 */
export class SignInLimiter {
  readonly #byEmail: WindowCounter;
  readonly #byAddress: WindowCounter;

  constructor(limits: SignInLimits, clock: Clock) {
    const ms = limits.windowSeconds * 1000;
    this.#byEmail = new WindowCounter(limits.perEmail, ms, clock);
    this.#byAddress = new WindowCounter(limits.perAddress, ms, clock);
  }

  retryAfter(email: string, address: string): number {
    return Math.max(
      this.#byEmail.retryAfter(email.toLowerCase()),
      this.#byAddress.retryAfter(address),
    );
  }

  /** Reserves a failure slot: 0 when the attempt may go ahead, else seconds to wait. */
  attempt(email: string, address: string): number {
    const wait = this.retryAfter(email, address);
    if (wait === 0) this.failed(email, address);
    return wait;
  }

  /** Gives back a slot reserved by `attempt` for a sign-in that did not fail. */
  release(email: string, address: string): void {
    this.#byEmail.release(email.toLowerCase());
    this.#byAddress.release(address);
  }

  failed(email: string, address: string): void {
    this.#byEmail.hit(email.toLowerCase());
    this.#byAddress.hit(address);
  }
}

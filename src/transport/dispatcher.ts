import { context } from '@opentelemetry/api';
import * as v from 'valibot';
import { type Clock, systemClock } from '../clock.ts';
import { assertNotExpired, type CallContext } from '../context.ts';
import type { Contract, ServiceOf } from '../contract.ts';
import { isConnectionError } from '../db/errors.ts';
import { AppError, isAppError, toAppError } from '../errors.ts';
import { delayPoint } from '../faults.ts';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { activeRequestId, withRequestId } from '../observability/scope.ts';
import { inSpan, SpanKind, tracingOn } from '../observability/tracing.ts';
import { parseOrThrow } from '../validation.ts';
import { type Settle, withinDeadline } from './deadlines.ts';
import { isServerFault } from './middleware.ts';

type Handler = (input: unknown, ctx: CallContext) => Promise<unknown>;
type ActionDef = Contract['actions'][string];

interface Hosted {
  contract: Contract;
  actions: Map<string, HostedAction>;
}

/** An action with its handler, and what becomes of its outcome: made once, used by every call. */
interface HostedAction {
  def: ActionDef;
  handler: Handler;
  settle: Settle;
}

/**
 * The callee side of every module call: validates the input, honours the deadline,
 * runs the handler and validates its output. Direct and NATS calls both end here.
 */
export class Dispatcher {
  readonly #hosted = new Map<string, Hosted>();

  constructor(
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    private readonly clock: Clock = systemClock,
  ) {}

  host<C extends Contract>(contract: C, service: ServiceOf<C>): void {
    const module = contract.name;
    const handlers = service as unknown as Record<string, Handler | undefined>;
    const actions = new Map<string, HostedAction>();
    for (const [action, def] of Object.entries(contract.actions as Contract['actions'])) {
      const handler = handlers[action];
      if (!handler) continue;
      actions.set(action, {
        def,
        handler,
        settle: {
          ok: (output) => this.#checked(output, def, module, action),
          failed: (err) => this.#failure(err, module, action),
        },
      });
    }
    this.#hosted.set(module, { contract, actions });
  }

  hosts(module: string): boolean {
    return this.#hosted.has(module);
  }

  get modules(): string[] {
    return [...this.#hosted.keys()];
  }

  contract(module: string): Contract | undefined {
    return this.#hosted.get(module)?.contract;
  }

  /**
   * Runs one action in a server span: the callee's half of the call, whichever transport
   * carried it. Calls that came over the network are also counted here (`remote`); direct
   * calls are counted once, by their caller.
   */
  dispatch(
    module: string,
    action: string,
    input: unknown,
    ctx: CallContext,
    remote = false,
  ): Promise<unknown> {
    // Direct calls already run in their request's context; NATS and saga calls get it here.
    const parent =
      activeRequestId() === ctx.requestId
        ? undefined
        : withRequestId(context.active(), ctx.requestId);
    // Tracing off, a direct call in its request's context: nothing to wrap it in.
    if (!parent && !remote && !tracingOn()) return this.#run(module, action, input, ctx, false);
    const work = () =>
      remote && this.metrics
        ? this.#counted(module, action, input, ctx)
        : this.#run(module, action, input, ctx, remote);
    if (!tracingOn()) return parent ? context.with(parent, work) : work();
    return inSpan(
      `${module}/${action}`,
      {
        kind: SpanKind.SERVER,
        parent,
        attributes: { 'rpc.system': 'bunshop', 'rpc.service': module, 'rpc.method': action },
      },
      work,
      isServerFault,
    );
  }

  /** A call that came over the network, counted here as well as by its caller. */
  async #counted(module: string, action: string, input: unknown, ctx: CallContext) {
    const started = performance.now();
    let code = 'ok';
    try {
      return await this.#run(module, action, input, ctx, true);
    } catch (err) {
      code = toAppError(err).code;
      throw err;
    } finally {
      // Only actions that exist: a caller cannot grow the label set with made-up names.
      if (code !== 'not_found' || this.#hosted.get(module)?.actions.has(action)) {
        this.metrics?.handled.observe([module, action, code], (performance.now() - started) / 1000);
      }
    }
  }

  /**
   * `remote`: the caller is another node, which checked the deadline on its own clock.
   * Not async: one promise per call, settled by the deadline race, where an async frame and
   * its await would add two more (about a tenth of a direct call's cost).
   */
  #run(
    module: string,
    action: string,
    input: unknown,
    ctx: CallContext,
    remote: boolean,
  ): Promise<unknown> {
    const hosted = this.#hosted.get(module)?.actions.get(action);
    if (!hosted) {
      return Promise.reject(new AppError('not_found', `No action ${module}.${action}.`));
    }
    const hold = delayPoint(module, action);
    // A direct call's caller checked the deadline a moment ago (middleware `deadline`), here.
    if (hold) return hold.then(() => this.#invoke(hosted, input, ctx, true));
    return this.#invoke(hosted, input, ctx, remote);
  }

  #invoke(
    { def, handler, settle }: HostedAction,
    input: unknown,
    ctx: CallContext,
    checkDeadline: boolean,
  ): Promise<unknown> {
    let work: Promise<unknown>;
    try {
      if (checkDeadline) assertNotExpired(ctx);
      // The same promise when it is one (every service's actions are async); a value otherwise.
      work = Promise.resolve(handler(parseOrThrow(def.input, input), ctx));
    } catch (err) {
      return Promise.reject(settle.failed(err));
    }
    return withinDeadline(work, ctx.deadline, this.clock, settle);
  }

  /** The handler's output as its contract declares it, or `internal` if it is not. */
  #checked(output: unknown, def: ActionDef, module: string, action: string): unknown {
    const checked = v.safeParse(def.output, output);
    if (checked.success) return checked.output;
    this.log.error('action returned an invalid output', {
      action: `${module}.${action}`,
      issues: checked.issues.map((i) => i.message),
    });
    throw new AppError('internal', 'An unexpected error occurred.');
  }

  /** What the caller sees of a handler's failure: its own AppError, or a sanitised one. */
  #failure(err: unknown, module: string, action: string): AppError {
    if (isAppError(err)) return err;
    if (isConnectionError(err)) {
      this.log.warn('database unreachable', { action: `${module}.${action}`, err });
      return new AppError(
        'unavailable',
        'A database this action needs is unreachable; try again shortly.',
        { retryAfter: 2 },
      );
    }
    this.log.error('action failed', { action: `${module}.${action}`, err });
    return new AppError('internal', 'An unexpected error occurred.');
  }
}

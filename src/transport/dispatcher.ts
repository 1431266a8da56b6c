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
import { withinDeadline } from './deadlines.ts';
import { isServerFault } from './middleware.ts';

type Handler = (input: unknown, ctx: CallContext) => Promise<unknown>;

interface Hosted {
  contract: Contract;
  service: Record<string, Handler>;
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
    this.#hosted.set(contract.name, {
      contract,
      service: service as unknown as Record<string, Handler>,
    });
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
      if (code !== 'not_found' || this.contract(module)?.actions[action]) {
        this.metrics?.handled.observe([module, action, code], (performance.now() - started) / 1000);
      }
    }
  }

  /** `remote`: the caller is another node, which checked the deadline on its own clock. */
  async #run(
    module: string,
    action: string,
    input: unknown,
    ctx: CallContext,
    remote: boolean,
  ): Promise<unknown> {
    const hosted = this.#hosted.get(module);
    const def =
      hosted && Object.hasOwn(hosted.contract.actions, action)
        ? hosted.contract.actions[action]
        : undefined;
    const handler = hosted?.service[action];
    if (!def || !handler) {
      throw new AppError('not_found', `No action ${module}.${action}.`);
    }
    const hold = delayPoint(`${module}.${action}`);
    if (hold) await hold;
    // A direct call's caller checked it a moment ago (middleware `deadline`), in this process.
    if (remote || hold) assertNotExpired(ctx);
    const parsed = parseOrThrow(def.input, input);
    let output: unknown;
    try {
      output = await withinDeadline(handler(parsed, ctx), ctx.deadline, this.clock);
    } catch (err) {
      if (isAppError(err)) throw err;
      if (isConnectionError(err)) {
        this.log.warn('database unreachable', { action: `${module}.${action}`, err });
        throw new AppError(
          'unavailable',
          'A database this action needs is unreachable; try again shortly.',
          {
            retryAfter: 2,
          },
        );
      }
      this.log.error('action failed', { action: `${module}.${action}`, err });
      throw new AppError('internal', 'An unexpected error occurred.');
    }
    const checked = v.safeParse(def.output, output);
    if (!checked.success) {
      this.log.error('action returned an invalid output', {
        action: `${module}.${action}`,
        issues: checked.issues.map((i) => i.message),
      });
      throw new AppError('internal', 'An unexpected error occurred.');
    }
    return checked.output;
  }
}

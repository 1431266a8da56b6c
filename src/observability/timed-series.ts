import type { Registry } from 'prom-client';

interface Cell {
  labels: Record<string, string>;
  count: number;
  sum: number;
  /** Observations per bucket, not cumulative; summed up at scrape time. */
  buckets: Float64Array;
}

export interface TimedSeriesOptions<L extends string> {
  /** `<name>_total` counts, `<name>_duration_seconds` is the histogram (prefix included). */
  counter: { name: string; help: string };
  histogram: { name: string; help: string };
  labelNames: readonly L[];
  buckets: readonly number[];
  registry: Registry;
}

type Value = { value: number; labels: Record<string, string | number>; metricName?: string };

/**
 * A counter and a latency histogram with the same labels, fed by one `observe` per request.
 * prom-client hashes each call's label object, for each metric, which cost over a microsecond
 * per call on the hot paths; here the label values are joined into one map key and the
 * exposition values are built from the cells at scrape time, in prom-client's own format.
 */
export class TimedSeries<L extends string> {
  /** One map level per label, the cells at the leaves: no key string is built per call. */
  readonly #tree = new Map<string, unknown>();
  readonly #cells: Cell[] = [];
  readonly #bounds: readonly number[];
  readonly #labelNames: readonly L[];
  readonly histogram: { name: string; get(): Promise<{ values: Value[] }> };

  constructor(o: TimedSeriesOptions<L>) {
    this.#bounds = [...o.buckets].sort((a, b) => a - b);
    this.#labelNames = o.labelNames;
    const counter = {
      ...o.counter,
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({ ...counter, values: this.#counts() }),
    };
    const histogram = {
      ...o.histogram,
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({ ...histogram, values: this.#histogramValues() }),
    };
    this.histogram = histogram;
    o.registry.registerMetric(counter as never);
    o.registry.registerMetric(histogram as never);
  }

  /** Counts one call with these label values (in `labelNames` order) that took `seconds`. */
  observe(values: readonly string[], seconds: number): void {
    let level = this.#tree;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = level.get(values[i]!) as Map<string, unknown> | undefined;
      if (!next) {
        next = new Map();
        level.set(values[i]!, next);
      }
      level = next;
    }
    const cell = (level.get(values[last]!) as Cell | undefined) ?? this.#add(level, values);
    cell.count += 1;
    cell.sum += seconds;
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= bounds[i]!) {
        cell.buckets[i]! += 1;
        break;
      }
    }
  }

  #add(level: Map<string, unknown>, values: readonly string[]): Cell {
    const labels: Record<string, string> = {};
    this.#labelNames.forEach((name, i) => {
      labels[name] = values[i] ?? '';
    });
    const cell = { labels, count: 0, sum: 0, buckets: new Float64Array(this.#bounds.length) };
    level.set(values.at(-1)!, cell);
    this.#cells.push(cell);
    return cell;
  }

  #counts(): Value[] {
    return this.#cells.map((c) => ({ value: c.count, labels: c.labels }));
  }

  #histogramValues(): Value[] {
    const name = this.histogram.name;
    const values: Value[] = [];
    for (const c of this.#cells) {
      let cumulative = 0;
      this.#bounds.forEach((le, i) => {
        cumulative += c.buckets[i]!;
        values.push({
          value: cumulative,
          labels: { le, ...c.labels },
          metricName: `${name}_bucket`,
        });
      });
      values.push(
        { value: c.count, labels: { le: '+Inf', ...c.labels }, metricName: `${name}_bucket` },
        { value: c.sum, labels: c.labels, metricName: `${name}_sum` },
        { value: c.count, labels: c.labels, metricName: `${name}_count` },
      );
    }
    return values;
  }
}

/**
 * prom-client's metric classes, loaded from their own files: its index also loads the
 * Pushgateway (node:http, node:https) and the cluster aggregator, about 14 ms of every start.
 */
import type * as prom from 'prom-client';
import counter from 'prom-client/lib/counter.js';
import defaultMetrics from 'prom-client/lib/defaultMetrics.js';
import gauge from 'prom-client/lib/gauge.js';
import histogram from 'prom-client/lib/histogram.js';
import registry from 'prom-client/lib/registry.js';

export const Registry = registry as typeof prom.Registry;
export type Registry = prom.Registry;
export const Counter = counter as typeof prom.Counter;
export const Gauge = gauge as typeof prom.Gauge;
export const Histogram = histogram as typeof prom.Histogram;
export const collectDefaultMetrics = defaultMetrics as typeof prom.collectDefaultMetrics;

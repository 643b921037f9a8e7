import { collectDefaultMetrics, type Metric, Registry } from 'prom-client';

/** Every metric of ours starts with this (the process defaults keep prom-client's `process_` / `nodejs_`). */
export const METRIC_PREFIX = 'matchmaking_';

export interface MetricsRegistryOptions {
  /** prom-client's process metrics (CPU, memory, event-loop lag, GC). @defaultValue true */
  defaultMetrics?: boolean;
}

/**
 * The registry of one process (or of one in-process component in tests): never the global
 * one, so two components in a test process do not mix or collide.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * The metric `name` of `registry`, made by `make` the first time: components that may be started
 * twice in one process (a projector after it led again, the workers and the challenge workers)
 * share their metrics instead of registering them twice (prom-client refuses that).
 */
export function metricOnce<M extends Metric>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

/** Seconds since `startNs` (a `process.hrtime.bigint()`). */
export const secondsSince = (startNs: bigint): number => Number(process.hrtime.bigint() - startNs) / 1e9;

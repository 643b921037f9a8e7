import type { AllFilter, EventStore } from '@mm/event-store';
import { metricOnce } from '@mm/metrics';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';
import { matchmakingCategories } from './runner/projection-runner.js';

/** Lag in events is counted up to this many (the log is read from the slowest projection's position when scraped). */
export const LAG_EVENTS_CAP = 10_000;
const LAG_PAGE = 2_000;
/** A scrape never waits longer than this for the log. */
const LAG_READ_TIMEOUT_MS = 2_000;

/** What the lag gauges read: the running projections' positions and the log. */
export interface LagSource {
  positions(): Record<string, number>;
  store: Pick<EventStore, 'readAll'>;
  filter?: AllFilter;
}

export interface ProjectionLag {
  /** Events in the log after the projection's position (at most {@link LAG_EVENTS_CAP}). */
  events: number;
  /** Age of the oldest event the projection has not applied; 0 when it has applied everything. */
  seconds: number;
}

/**
 * How far each projection is behind the log: the events after its position (counted up to
 * {@link LAG_EVENTS_CAP}, read in pages from the slowest projection's position) and the age of the
 * first one it has not applied.
 */
export async function projectionLag(
  source: LagSource,
  options: { now?: number; cap?: number } = {},
): Promise<Record<string, ProjectionLag>> {
  const now = options.now ?? Date.now();
  const cap = options.cap ?? LAG_EVENTS_CAP;
  const positions = source.positions();
  const names = Object.keys(positions);
  const lag: Record<string, ProjectionLag> = Object.fromEntries(names.map((n) => [n, { events: 0, seconds: 0 }]));
  if (names.length === 0) return lag;
  let after = Math.min(...Object.values(positions));
  for (let read = 0; read < cap; ) {
    const maxCount = Math.min(LAG_PAGE, cap - read);
    const page = await source.store.readAll({ after, maxCount, filter: source.filter ?? matchmakingCategories });
    for (const event of page) {
      for (const name of names) {
        if (event.position <= positions[name]!) continue;
        const entry = lag[name]!;
        if (entry.events === 0) entry.seconds = Math.max(0, (now - event.recordedAt.getTime()) / 1000);
        entry.events++;
      }
    }
    read += page.length;
    if (page.length < maxCount) break;
    after = page.at(-1)!.position;
  }
  return lag;
}

/**
 * The projector's metrics, registered once per registry (a projector that leads again reuses
 * them): batch duration and events per projection, recoveries, lag in events and seconds (read
 * when scraped, from the running projections), and whether this process leads.
 */
export function createProjectorMetrics(registry: Registry, logger?: Pick<Logger, 'warn'>) {
  const once = <M extends Metric>(name: string, make: () => M) => metricOnce(registry, name, make);
  const batchSeconds = once(
    'matchmaking_projection_batch_duration_seconds',
    () =>
      new Histogram({
        name: 'matchmaking_projection_batch_duration_seconds',
        help: 'Time a projection took to apply one batch of events, by projection',
        labelNames: ['projection'] as const,
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: [registry],
      }),
  );
  const applied = once(
    'matchmaking_projection_events_applied_total',
    () =>
      new Counter({
        name: 'matchmaking_projection_events_applied_total',
        help: 'Events applied by each projection (replays after a reset included)',
        labelNames: ['projection'] as const,
        registers: [registry],
      }),
  );
  const recoveries = once(
    'matchmaking_projection_recoveries_total',
    () =>
      new Counter({
        name: 'matchmaking_projection_recoveries_total',
        help: 'Projection recovery attempts by kind (reset: its store lost state; transient: a failure expected to pass)',
        labelNames: ['projection', 'kind'] as const,
        registers: [registry],
      }),
  );
  const leader = once(
    'matchmaking_projector_leader',
    () =>
      new Gauge({
        name: 'matchmaking_projector_leader',
        help: '1 while this projector process leads (projects), 0 while it stands by',
        registers: [registry],
      }),
  );

  let source: LagSource | undefined;
  let pending: Promise<Record<string, ProjectionLag>> | undefined;
  const read = (): Promise<Record<string, ProjectionLag>> => {
    const current = source;
    if (!current) return Promise.resolve({});
    pending ??= Promise.race([
      projectionLag(current),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('the event store did not answer')), LAG_READ_TIMEOUT_MS).unref(),
      ),
    ])
      .catch((error: unknown): Record<string, ProjectionLag> => {
        logger?.warn({ err: error }, 'could not measure the projection lag');
        return {};
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
  if (!registry.getSingleMetric('matchmaking_projection_lag_events')) {
    new Gauge({
      name: 'matchmaking_projection_lag_events',
      help: `Events in the log the projection has not applied (counted up to ${LAG_EVENTS_CAP}); only on the leading projector`,
      labelNames: ['projection'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const [projection, lag] of Object.entries(await read())) this.set({ projection }, lag.events);
      },
    });
    new Gauge({
      name: 'matchmaking_projection_lag_seconds',
      help: 'Age of the oldest event the projection has not applied (0: caught up); only on the leading projector',
      labelNames: ['projection'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const [projection, lag] of Object.entries(await read())) this.set({ projection }, lag.seconds);
      },
    });
  }
  leader.set(0);

  return {
    batch(projection: string, events: number, seconds: number): void {
      batchSeconds.observe({ projection }, seconds);
      applied.inc({ projection }, events);
    },
    recovery(projection: string, kind: 'reset' | 'transient'): void {
      recoveries.inc({ projection, kind });
    },
    /** Reports the projections' series from the start (0 until something happens). */
    projections(names: readonly string[]): void {
      for (const projection of names) {
        batchSeconds.zero({ projection });
        applied.inc({ projection }, 0);
        for (const kind of ['reset', 'transient']) recoveries.inc({ projection, kind }, 0);
      }
    },
    /** The projections the lag gauges follow (undefined: none runs here, e.g. on a standby). */
    follow(next: LagSource | undefined): void {
      source = next;
    },
    leading(isLeader: boolean): void {
      leader.set(isLeader ? 1 : 0);
    },
  };
}

export type ProjectorMetrics = ReturnType<typeof createProjectorMetrics>;

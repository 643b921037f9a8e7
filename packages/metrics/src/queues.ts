import type { Job, Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { metricOnce } from './registry.js';

export const QUEUE_JOBS = 'matchmaking_queue_jobs';
export const QUEUE_OLDEST_WAITING_SECONDS = 'matchmaking_queue_oldest_waiting_seconds';
export const QUEUE_JOB_WAIT_SECONDS = 'matchmaking_queue_job_wait_seconds';
export const QUEUE_JOB_DURATION_SECONDS = 'matchmaking_queue_job_duration_seconds';

/** The job states reported by `matchmaking_queue_jobs{queue,state}`. */
export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;

/** A scrape never waits longer than this for Redis (a client without an offline limit would wait for ever). */
export const QUEUE_COLLECT_TIMEOUT_MS = 1000;

interface QueueRegistration {
  queues: Map<string, Queue>;
  logger?: Pick<Logger, 'warn'> | undefined;
}

const registrations = new WeakMap<Registry, QueueRegistration>();

const timeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms).unref(),
    ),
  ]);

/** When a job became due: its creation, or the end of its delay. */
const dueAt = (job: Pick<Job, 'timestamp' | 'delay'>) => job.timestamp + (job.delay ?? 0);

interface QueueReading {
  name: string;
  counts: Record<string, number>;
  oldestWaitingSeconds: number;
}

async function readQueue(queue: Queue, now: number): Promise<QueueReading> {
  const [counts, oldest] = await Promise.all([
    queue.getJobCounts(...QUEUE_STATES),
    queue.getJobs(['wait'], 0, 0, true),
  ]);
  const first = oldest[0];
  return {
    name: queue.name,
    counts,
    oldestWaitingSeconds: first ? Math.max(0, (now - dueAt(first)) / 1000) : 0,
  };
}

/**
 * BullMQ queue gauges, read from Redis when scraped: `matchmaking_queue_jobs{queue,state}` (depth
 * per state: waiting, prioritized, active, delayed, failed) and
 * `matchmaking_queue_oldest_waiting_seconds{queue}` (how long the oldest waiting job has been
 * due; 0 when none waits). Every process that owns the queues may report them: they are the
 * queue's values, not the process's (aggregate with `max by (queue, state)`). A queue Redis does
 * not answer for within {@link QUEUE_COLLECT_TIMEOUT_MS} is left out of that scrape.
 */
export function observeQueues(registry: Registry, queues: readonly Queue[], logger?: Pick<Logger, 'warn'>): void {
  let registration = registrations.get(registry);
  if (!registration) {
    const current: QueueRegistration = { queues: new Map(), logger };
    registration = current;
    registrations.set(registry, current);
    let pending: Promise<QueueReading[]> | undefined;
    // Both gauges are collected at once by a scrape: one read of Redis serves them.
    const read = () => {
      if (!pending) {
        const now = Date.now();
        pending = Promise.all(
          [...current.queues.values()].map((queue) =>
            timeout(readQueue(queue, now), QUEUE_COLLECT_TIMEOUT_MS).catch((error: unknown) => {
              current.logger?.warn({ err: error, queue: queue.name }, 'could not read queue metrics');
              return undefined;
            }),
          ),
        ).then((readings) => readings.filter((r) => r !== undefined));
        void pending.finally(() => {
          pending = undefined;
        });
      }
      return pending;
    };
    new Gauge({
      name: QUEUE_JOBS,
      help: 'BullMQ jobs per queue and state (waiting, prioritized, active, delayed, failed)',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const reading of await read())
          for (const state of QUEUE_STATES) this.set({ queue: reading.name, state }, reading.counts[state] ?? 0);
      },
    });
    new Gauge({
      name: QUEUE_OLDEST_WAITING_SECONDS,
      help: 'Seconds the oldest waiting job of each BullMQ queue has been due (0: none waits)',
      labelNames: ['queue'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const reading of await read()) this.set({ queue: reading.name }, reading.oldestWaitingSeconds);
      },
    });
  }
  for (const queue of queues) registration.queues.set(queue.name, queue);
}

/** Stops reporting `queues` (closed, or owned by a component that stopped). */
export function forgetQueues(registry: Registry, queues: readonly Queue[]): void {
  const registration = registrations.get(registry);
  for (const queue of queues)
    if (registration?.queues.get(queue.name) === queue) registration.queues.delete(queue.name);
}

/**
 * Job timings of a BullMQ worker: `matchmaking_queue_job_wait_seconds{queue}` (from due to
 * started, first attempts only: a retry's wait is its backoff) and
 * `matchmaking_queue_job_duration_seconds{queue,outcome}` (completed | failed).
 */
export function observeWorker(registry: Registry, worker: Worker): void {
  const wait = metricOnce(
    registry,
    QUEUE_JOB_WAIT_SECONDS,
    () =>
      new Histogram({
        name: QUEUE_JOB_WAIT_SECONDS,
        help: 'Seconds a BullMQ job waited from due to started (first attempts)',
        labelNames: ['queue'] as const,
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [registry],
      }),
  );
  const duration = metricOnce(
    registry,
    QUEUE_JOB_DURATION_SECONDS,
    () =>
      new Histogram({
        name: QUEUE_JOB_DURATION_SECONDS,
        help: 'Seconds a BullMQ job ran, by queue and outcome (completed | failed)',
        labelNames: ['queue', 'outcome'] as const,
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [registry],
      }),
  );
  const queue = worker.name;
  wait.zero({ queue });
  duration.zero({ queue, outcome: 'completed' });
  duration.zero({ queue, outcome: 'failed' });
  worker.on('active', (job) => {
    if (job.attemptsMade === 0 && job.processedOn)
      wait.observe({ queue }, Math.max(0, job.processedOn - dueAt(job)) / 1000);
  });
  const finished = (job: Job | undefined, outcome: 'completed' | 'failed') => {
    if (job?.processedOn) duration.observe({ queue, outcome }, Math.max(0, Date.now() - job.processedOn) / 1000);
  };
  worker.on('completed', (job) => finished(job, 'completed'));
  worker.on('failed', (job) => finished(job, 'failed'));
}

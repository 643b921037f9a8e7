import { createTestRedis, deleteRedisPrefix, randomRedisPrefix } from '@mm/testing';
import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observeQueues, observeWorker } from './queues.js';
import { createMetricsRegistry } from './registry.js';

let redis: Redis;
const prefix = randomRedisPrefix('metrics');
const closing: { close(): Promise<void> }[] = [];
beforeAll(() => {
  redis = createTestRedis();
});
afterAll(async () => {
  for (const c of closing.reverse()) await c.close();
  await deleteRedisPrefix(redis, prefix);
  redis.disconnect();
});

const sample = (text: string, name: string, labels: string) =>
  Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);

describe('BullMQ queue metrics', () => {
  it('reports depth per state and the oldest waiting job, read from Redis when scraped', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const work = new Queue('work', { connection: redis, prefix });
    const other = new Queue('other', { connection: redis, prefix });
    closing.push(work, other);
    observeQueues(registry, [work]);
    observeQueues(registry, [other]); // a second component adds its queues to the same gauges

    const empty = await registry.metrics();
    expect(sample(empty, 'matchmaking_queue_jobs', 'queue="work",state="waiting"')).toBe(0);
    expect(sample(empty, 'matchmaking_queue_oldest_waiting_seconds', 'queue="work"')).toBe(0);

    await work.add('a', {}, { timestamp: Date.now() - 4000 });
    await work.add('b', {});
    await work.add('later', {}, { delay: 60_000 });
    await other.add('c', {});
    const text = await registry.metrics();
    expect(sample(text, 'matchmaking_queue_jobs', 'queue="work",state="waiting"')).toBe(2);
    expect(sample(text, 'matchmaking_queue_jobs', 'queue="work",state="delayed"')).toBe(1);
    expect(sample(text, 'matchmaking_queue_jobs', 'queue="work",state="failed"')).toBe(0);
    expect(sample(text, 'matchmaking_queue_jobs', 'queue="other",state="waiting"')).toBe(1);
    const oldest = sample(text, 'matchmaking_queue_oldest_waiting_seconds', 'queue="work"');
    expect(oldest).toBeGreaterThanOrEqual(4);
    expect(oldest).toBeLessThan(30);
  });

  it("times a worker's jobs (wait before start, duration by outcome) and counts failed jobs in the queue", async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const jobs = new Queue('jobs', { connection: redis, prefix });
    closing.push(jobs);
    observeQueues(registry, [jobs]);
    await jobs.add('ok', { fail: false }, { timestamp: Date.now() - 2000 });
    await jobs.add('bad', { fail: true });
    const done = new Set<string>();
    const worker = new Worker(
      'jobs',
      async (job: Job<{ fail: boolean }>) => {
        await new Promise((r) => setTimeout(r, 50));
        if (job.data.fail) throw new Error('refused');
      },
      { connection: redis, prefix, concurrency: 1 },
    );
    closing.push(worker);
    observeWorker(registry, worker);
    worker.on('completed', (job) => done.add(job.id!));
    worker.on('failed', (job) => done.add(job!.id!));
    for (let i = 0; i < 200 && done.size < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(done.size).toBe(2);

    const text = await registry.metrics();
    expect(sample(text, 'matchmaking_queue_job_wait_seconds_count', 'queue="jobs"')).toBe(2);
    // The first job was due 2 s before it ran: its wait is in the buckets above 1 s.
    expect(sample(text, 'matchmaking_queue_job_wait_seconds_bucket', 'le="1",queue="jobs"')).toBe(1);
    expect(sample(text, 'matchmaking_queue_job_duration_seconds_count', 'queue="jobs",outcome="completed"')).toBe(1);
    expect(sample(text, 'matchmaking_queue_job_duration_seconds_count', 'queue="jobs",outcome="failed"')).toBe(1);
    expect(
      sample(text, 'matchmaking_queue_job_duration_seconds_sum', 'queue="jobs",outcome="failed"'),
    ).toBeGreaterThanOrEqual(0.04);
    expect(sample(text, 'matchmaking_queue_jobs', 'queue="jobs",state="failed"')).toBe(1);
    expect(sample(text, 'matchmaking_queue_jobs', 'queue="jobs",state="waiting"')).toBe(0);
  });

  it('leaves a queue out of the scrape when its Redis does not answer, instead of failing the scrape', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const { Redis } = await import('ioredis');
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: null,
      retryStrategy: () => 1000,
    });
    dead.on('error', () => undefined);
    const unreachable = new Queue('unreachable', { connection: dead, prefix });
    unreachable.on('error', () => undefined);
    observeQueues(registry, [unreachable]);
    const started = Date.now();
    const text = await registry.metrics();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(text).not.toContain('queue="unreachable"');
    dead.disconnect();
  });
});

import { randomBytes } from 'node:crypto';
import type { EventStore } from '@mm/event-store';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchWith, ofType, startWorkerStack, type WorkerStack } from '../../test/stack.js';
import { type ChallengeWorkers, startChallengeWorkers } from '../challenges/index.js';

/*
 * PostgreSQL terminates the worker's connections (restart, failover, an operator's
 * pg_terminate_backend): 57P01 on idle pooled connections is emitted as an 'error' event,
 * which crashed the process where a pool had no listener. The worker's pools carry an
 * application_name, so exactly its connections are killed here (other tests share the server).
 * It must stay up, and the next jobs (pairing, game creation) succeed.
 */
const APP = `mm-worker-test-${randomBytes(4).toString('hex')}`;
let stack: WorkerStack;
let store: EventStore;
let challengeWorkers: ChallengeWorkers;
beforeAll(async () => {
  stack = await startWorkerStack();
  // The worker's own event-store client (named too), as apps/worker has.
  store = await createPostgresEventStore({
    connectionString: stack.db.connectionString,
    schema: stack.db.schema,
    poolSize: 4,
    applicationName: `${APP}-store`,
    migrate: false,
  });
});
afterAll(async () => {
  await challengeWorkers?.close();
  await stack?.stop();
  await store?.close();
});

/** Terminates every connection whose application_name is `name`; how many there were. */
const terminate = async (name: string): Promise<number> =>
  (
    await stack.db.pool.query<{ n: number }>(
      'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
      [name],
    )
  ).rows[0]!.n;

const gameOf = async (prefix: string) => {
  const events = await stack.events();
  const match = matchWith(events, prefix);
  return match && ofType(events, 'GameCreated').find((e) => e.data.matchId === match.matchId);
};

describe('PostgreSQL terminating the worker connections', () => {
  it('does not crash the worker, and the next jobs succeed', async () => {
    // The pools are created by the workers themselves (no db given in): those are the ones to name.
    await stack.startWorkers({ store, db: undefined, applicationName: APP });
    challengeWorkers = await startChallengeWorkers({
      config: stack.config,
      logger: pino({ level: 'silent' }),
      store,
      redis: stack.redis,
      applicationName: APP,
      sweepEveryMs: 200,
    });
    await stack.join('before-a', 1500);
    await stack.join('before-b', 1500);
    await stack.until(() => gameOf('before-'), 'a game before the blip');
    // The tick's sweep (every 0.5 s) and the challenge sweep keep the worker pools' connections open.
    await stack.until(
      async () =>
        (
          await stack.db.pool.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
            [APP],
          )
        ).rows[0]!.n >= 2,
      'open worker connections',
    );

    // Kill them three times, while players join (jobs run into the dropped connections).
    let killed = 0;
    for (let round = 0; round < 3; round++) {
      killed += await terminate(APP);
      await terminate(`${APP}-store`);
      await stack.join(`during${round}-a`, 1500);
      await stack.join(`during${round}-b`, 1500);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(killed).toBeGreaterThanOrEqual(2); // the worker's own pools were hit

    await stack.join('after-a', 1500);
    await stack.join('after-b', 1500);
    for (const prefix of ['during0-', 'during1-', 'during2-', 'after-'])
      await stack.until(() => gameOf(prefix), `a game for ${prefix} after the blips`, 20_000);
  });
});

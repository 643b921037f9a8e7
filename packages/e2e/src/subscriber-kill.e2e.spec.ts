import { join } from 'node:path';
import { historyHandlers, migrateHistory } from '@mm/example-subscriber';
import { createSubscriber, eventStoreSource } from '@mm/subscriber';
import { createTestSchema, TEST_JWT_AUDIENCE, TEST_JWT_ISSUER, TEST_JWT_SECRET, type TestSchema } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MatchmakingClient } from './driver/matchmaking-client.js';
import { seeded, sleep } from './driver/pacing.js';
import { freePort } from './stack/free-port.js';
import { ServiceProcess } from './stack/service-process.js';
import { type Stack, startStack } from './stack/stack.js';

/*
 * The example consumer (apps/example-subscriber, "player history") follows the HTTP feed while
 * players are matched, and is SIGKILLed and restarted 10 times. Its tables must end exactly as
 * a fresh replay of the log into an empty schema makes them: no event lost, none applied twice.
 */
const TENANT = 'hist-t1';
const KILLS = 10;
/** Fresh players with ratings 1450–1546, all within each other's first window. */
const userOf = (n: number) => `h${n}_r${1450 + (n % 25) * 4}`;
const FOLLOWED = ['MatchCreated', 'GameCreated'];

describe('the example consumer SIGKILLed 10 times while following the feed', () => {
  let stack: Stack;
  let consumerDb: TestSchema;
  let consumer: ServiceProcess;
  let consumerUrl: string;
  beforeAll(async () => {
    stack = await startStack({ workers: 1, label: 'e2e_hist', env: { ACTIVE_GAME_CHECK: 'false' } });
    consumerDb = await createTestSchema('e2e_hist_consumer');
    const port = await freePort();
    consumerUrl = `http://127.0.0.1:${port}`;
    consumer = new ServiceProcess({
      name: 'player-history',
      script: 'apps/example-subscriber/src/main.ts',
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        LOG_LEVEL: 'info',
        FEED_URL: stack.apiUrl,
        FEED_TENANT: TENANT,
        JWT_SECRET: TEST_JWT_SECRET,
        JWT_ISSUER: TEST_JWT_ISSUER,
        JWT_AUDIENCE: TEST_JWT_AUDIENCE,
        PLAYER_HISTORY_DATABASE_URL: consumerDb.connectionString,
        PLAYER_HISTORY_SCHEMA: consumerDb.schema,
        PLAYER_HISTORY_PORT: String(port),
      },
      readiness: { url: `${consumerUrl}/ready` },
      logFile: join(stack.logDir, 'player-history.log'),
    });
    await consumer.start();
  }, 120_000);
  afterAll(async () => {
    await consumer?.stop();
    await consumerDb?.drop();
    await stack?.stop();
  }, 60_000);

  it('ends with exactly the tables a fresh replay gives', async () => {
    const client = new MatchmakingClient(stack.apiUrl);
    const random = seeded(42);
    let loading = true;
    let joins = 0;
    // Two joining loops: new players all the time, so matches (and games) keep coming.
    const load = Promise.all(
      [0, 1].map(async (lane) => {
        for (let n = lane; loading; n += 2) {
          const res = await client.join(TENANT, userOf(n), '3+0', 'rated');
          if (res.status === 201) joins++;
          await sleep(30);
        }
      }),
    );

    // Even kills land while the consumer applies events (it has handled some since its start:
    // mid-batch, mid-transaction); odd ones at a random moment of its start-up (loading,
    // creating its tables, reading its checkpoint, catching up).
    const handledSinceStart = async () =>
      ((await (await fetch(`${consumerUrl}/stats`)).json()) as { handled: number }).handled;
    for (let kill = 0; kill < KILLS; kill++) {
      if (kill % 2 === 0) {
        if (!consumer.running) await consumer.start();
        while ((await handledSinceStart()) === 0) await sleep(20);
        await sleep(Math.floor(random() * 200));
        await consumer.kill();
      } else {
        const starting = consumer.start().catch(() => undefined); // killed before it is ready
        await sleep(300 + Math.floor(random() * 1500));
        await consumer.kill();
        await starting;
      }
    }
    await consumer.start();
    loading = false;
    await load;
    expect(consumer.starts).toBe(KILLS + 1); // the first start, one after each kill

    // The log goes quiet (last games created), then the consumer must reach its end.
    let last = -1;
    for (let quiet = 0; quiet < 3; ) {
      await sleep(500);
      const followed = await stack.readAll({ eventTypes: FOLLOWED });
      const position = followed.filter((e) => e.metadata.tenantId === TENANT).at(-1)?.position ?? -1;
      quiet = position === last ? quiet + 1 : 0;
      last = position;
    }
    const games = (await stack.readAll({ eventTypes: ['GameCreated'] })).length;
    expect(games).toBeGreaterThan(20);
    const deadline = Date.now() + 30_000;
    let stats: { position: number; handled: number; deadLettered: number } = {
      position: -1,
      handled: 0,
      deadLettered: 0,
    };
    while (Date.now() < deadline) {
      stats = (await (await fetch(`${consumerUrl}/stats`)).json()) as typeof stats;
      if (stats.position >= last) break;
      await sleep(100);
    }
    expect(stats.position).toBe(last);
    expect(stats.deadLettered).toBe(0);

    // A fresh replay of the log with the same projection into an empty schema.
    const replaySchema = `${consumerDb.schema}_replay`;
    await migrateHistory(consumerDb.pool, replaySchema);
    const replay = createSubscriber({
      name: 'player-history-replay',
      source: eventStoreSource(stack.store, { filter: { tenantId: TENANT } }),
      db: consumerDb.pool,
      schema: replaySchema,
      handlers: historyHandlers(replaySchema),
    });
    await replay.start();
    await replay.waitFor(last);
    await replay.stop();

    const table = async (schema: string, name: string, order: string) =>
      (await consumerDb.pool.query(`SELECT * FROM "${schema}".${name} ORDER BY ${order}`)).rows;
    for (const [name, order] of [
      ['players', 'tenant, user_id'],
      ['opponents', 'tenant, user_id, opponent_id'],
      ['matches', 'tenant, match_id'],
    ] as const) {
      const killed = await table(consumerDb.schema, name, order);
      expect(killed.length, name).toBeGreaterThan(0);
      expect(killed, name).toEqual(await table(replaySchema, name, order));
    }
    const totals = await consumerDb.pool.query<{ games: string }>(
      `SELECT sum(games) AS games FROM "${consumerDb.schema}".players`,
    );
    expect(Number(totals.rows[0]!.games)).toBe(2 * games);
    const history = await (await fetch(`${consumerUrl}/players/${userOf(0)}/history`)).json();
    expect(history).toMatchObject({ tenant: TENANT, user: userOf(0), games_played: 1, opponents: [{ games: 1 }] });
    await consumerDb.pool.query(`DROP SCHEMA "${replaySchema}" CASCADE`);
    process.stderr.write(
      `[subscriber-kill] ${joins} joins, ${games} games, consumer started ${consumer.starts} times, checkpoint ${last}\n`,
    );
  }, 180_000);
});

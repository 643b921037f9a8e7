import { matchStream } from '@mm/contracts';
import { createEventStore, type EventStore } from '@mm/event-store';
import { type EsdbTestServer, startEsdbTestServer } from '@mm/event-store/esdb-test-server';
import { json, playerToken } from '@mm/testing';
import { startWorkers, type Workers } from '@mm/workers';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../test/harness.js';

/**
 * The whole service on the EventStoreDB adapter (EVENT_STORE_URL=esdb://…), over the gRPC
 * protocol test server (EventStoreDB itself cannot run here): API, projector and workers,
 * live-game-api as an HTTP double.
 */
let server: EsdbTestServer;
let store: EventStore;
let stack: TestStack;
let workers: Workers;
let games = 0;

beforeAll(async () => {
  server = await startEsdbTestServer();
  store = await createEventStore(server.url);
  stack = await startTestStack({ EVENT_STORE_URL: server.url }, { store });
  stack.liveGame.handle = (req, res) => {
    if (req.method === 'POST' && req.url === '/internal/games')
      return json(res, 201, { game_id: `esdb-game-${++games}` });
    return json(res, 404, {});
  };
  workers = await startWorkers({
    config: stack.config,
    logger: pino({ level: 'silent' }),
    store,
    redis: stack.redis,
    db: stack.db.pool,
  });
}, 60_000);

afterAll(async () => {
  await workers?.close();
  await stack?.stop();
  await server?.stop();
});

describe('EVENT_STORE_URL=esdb://… end to end', () => {
  it('join → match → game', async () => {
    expect(stack.config.eventStoreUrl).toMatch(/^esdb:\/\//);
    const [alice, bob] = [playerToken('tenant-esdb', 'alice'), playerToken('tenant-esdb', 'bob')];
    const body = { time_control: '3+0', mode: 'rated' };
    const joinA = await stack.request('POST', '/v1/matchmaking/queue', { token: alice, body });
    const joinB = await stack.request('POST', '/v1/matchmaking/queue', { token: bob, body });
    expect([joinA.status, joinB.status]).toEqual([201, 201]);

    const deadline = Date.now() + 30_000;
    let status: { body: Record<string, unknown> } | undefined;
    while (Date.now() < deadline) {
      status = await stack.request('GET', `/v1/matchmaking/queue/${joinA.body.queue_entry_id}`, { token: alice });
      if (status.body.game_id) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status?.body).toMatchObject({
      status: 'MATCHED',
      opponent_id: 'bob',
      game_id: expect.stringMatching(/^esdb-game-/),
    });
    const matchId = String(status?.body.match_id);
    const events = await store.readStream(matchStream(matchId));
    expect(events.map((e) => e.type)).toEqual(['MatchCreated', 'GameCreated']);
    // the events really live in the EventStoreDB protocol server, not in PostgreSQL
    expect(events[0]?.position).toBeGreaterThan(0);
  }, 60_000);
});

import { createServer, type Server } from 'node:net';
import { createQueueViewReader } from '@mm/projections';
import { playerToken } from '@mm/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/harness.js';
import { LIVE_FIGURES_HEADER } from './queue.js';

/*
 * A response never says "failed" for a command that was applied, and never says "done" for one
 * that was not: the store's reply lost after its commit, Redis away after the append, the read
 * models away for a read.
 */
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

const token = (user: string) => playerToken('tenant-truth', user);
const join = (user: string) =>
  stack.request('POST', '/v1/matchmaking/queue', {
    token: token(user),
    body: { time_control: '3+0', mode: 'rated' },
  });
const joinedOf = async (user: string) =>
  (await stack.allEvents()).filter(
    (e) => e.type === 'QueueJoined' && (e.data as { userId: string }).userId === user && e.streamName.includes(user),
  );

/** A TCP port where Redis does not answer: the server accepts and closes every connection. */
const deadRedisPort = async (): Promise<{ port: number; server: Server }> => {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as { port: number }).port, server };
};

/** The store's `nth` next append commits, then its reply is "lost" (the connection reset after the commit). */
const loseNextAppendReply = (nth = 1) => {
  const original = stack.store.appendToStream.bind(stack.store);
  let seen = 0;
  stack.store.appendToStream = async (...args) => {
    if (++seen < nth) return original(...args);
    stack.store.appendToStream = original;
    await original(...args);
    throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  };
};

describe('the store applied the command but its reply was lost', () => {
  it('a join is answered 201 with the entry that is in the log', async () => {
    loseNextAppendReply();
    const res = await join('lost-reply-ann');
    expect(res.status).toBe(201);
    const joined = await joinedOf('lost-reply-ann');
    expect(joined).toHaveLength(1);
    expect(res.body.queue_entry_id).toBe((joined[0]!.data as { queueEntryId: string }).queueEntryId);
    expect(res.body.status).toBe('SEARCHING');
  });

  it('a cancel is answered 200 CANCELLED', async () => {
    const joined = await join('lost-reply-ben');
    expect(joined.status).toBe(201);
    loseNextAppendReply();
    const res = await stack.request('DELETE', `/v1/matchmaking/queue/${joined.body.queue_entry_id}`, {
      token: token('lost-reply-ben'),
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('CANCELLED');
  });

  it('a challenge whose ChallengeIssued landed is answered 201', async () => {
    loseNextAppendReply(2); // the issue flow's second append: ChallengeIssued on the challenge stream
    const res = await stack.request('POST', '/v1/matchmaking/challenges', {
      token: token('lost-reply-hal'),
      body: { opponent_id: 'lost-reply-ida', time_control: '3+0', mode: 'casual', color: 'random' },
    });
    expect(res.status).toBe(201);
    const issued = (await stack.allEvents()).filter(
      (e) => e.type === 'ChallengeIssued' && (e.data as { challengeId: string }).challengeId === res.body.challenge_id,
    );
    expect(issued).toHaveLength(1);
  });

  it('a challenge whose issue stopped after its first step is answered 503 (not issued), and can be issued again', async () => {
    loseNextAppendReply(); // the first append of the issue flow (the challenger's slot)
    const res = await stack.request('POST', '/v1/matchmaking/challenges', {
      token: token('lost-reply-cy'),
      body: { opponent_id: 'lost-reply-dee', time_control: '3+0', mode: 'casual', color: 'random' },
    });
    // The flow stopped after its first step: the challenge was not issued, and the answer says so.
    expect(res.status).toBe(503);
    const issued = (await stack.allEvents()).filter((e) => e.type === 'ChallengeIssued');
    expect(issued.filter((e) => (e.data as { challengerId: string }).challengerId === 'lost-reply-cy')).toHaveLength(0);
    const again = await stack.request('POST', '/v1/matchmaking/challenges', {
      token: token('lost-reply-cy'),
      body: { opponent_id: 'lost-reply-dee', time_control: '3+0', mode: 'casual', color: 'random' },
    });
    expect(again.status).toBe(201);
  });
});

describe('Redis is away', () => {
  let dead: { port: number; server: Server };
  let deadRedis: Redis;
  let livePosition: TestStack['api']['deps']['queueViews']['position'];
  beforeAll(async () => {
    dead = await deadRedisPort();
    deadRedis = new Redis({
      host: '127.0.0.1',
      port: dead.port,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: () => 200,
    });
    deadRedis.on('error', () => undefined);
    // The API's view reader asks a Redis that does not answer (the rest of the stack keeps its own).
    livePosition = stack.api.deps.queueViews.position;
    stack.api.deps.queueViews.position = createQueueViewReader(deadRedis, stack.prefix).position;
  });
  afterAll(async () => {
    stack.api.deps.queueViews.position = livePosition;
    deadRedis.disconnect();
    await new Promise((resolve) => dead.server.close(resolve));
  });

  it('a join is applied and answered 201, with its live figures null and marked unavailable', async () => {
    const res = await join('no-redis-eve');
    expect(res.status).toBe(201);
    expect(res.headers.get(LIVE_FIGURES_HEADER.toLowerCase())).toBe('unavailable');
    expect(res.body.position_estimate).toBeNull();
    expect(await joinedOf('no-redis-eve')).toHaveLength(1);
  });

  it('GET /queue/{id} and GET /active answer from the log', async () => {
    const joined = await join('no-redis-fay');
    expect(joined.status).toBe(201);
    const entry = await stack.request('GET', `/v1/matchmaking/queue/${joined.body.queue_entry_id}`, {
      token: token('no-redis-fay'),
    });
    expect(entry.status).toBe(200);
    expect(entry.body.status).toBe('SEARCHING');
    const active = await stack.request('GET', '/v1/matchmaking/active', { token: token('no-redis-fay') });
    expect(active.status).toBe(200);
    expect(active.body.queue_entry.queue_entry_id).toBe(joined.body.queue_entry_id);
    expect(active.headers.get(LIVE_FIGURES_HEADER.toLowerCase())).toBe('unavailable');
  });
});

describe('the read models are away', () => {
  it('GET /queue/{id} answers from the player stream', async () => {
    const joined = await join('no-rm-gus');
    expect(joined.status).toBe(201);
    const queries = stack.api.deps.queries;
    const saved = { ...queries };
    const refused = () =>
      Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    Object.assign(queries, { checkpoint: refused, entry: refused, recentMedianWaitSeconds: refused });
    try {
      const entry = await stack.request('GET', `/v1/matchmaking/queue/${joined.body.queue_entry_id}`, {
        token: token('no-rm-gus'),
      });
      expect(entry.status).toBe(200);
      expect(entry.body.queue_entry_id).toBe(joined.body.queue_entry_id);
    } finally {
      Object.assign(queries, saved);
    }
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { EventData } from '@mm/event-store';
import { createSubscriber, httpFeedSource } from '@mm/subscriber';
import { createTestSchema, mintToken, playerToken } from '@mm/testing';
import { createParser } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/harness.js';
import type { FeedEvent } from '../application/event-feed.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ EVENT_FEED_HEARTBEAT_MS: '200' });
});
afterAll(() => stack?.stop());

const newTenant = () => `feed-${randomBytes(4).toString('hex')}`;
const serviceToken = (tenantId: string) =>
  mintToken({ sub: 'rating-service', tenant_id: tenantId, roles: ['service'] });
const platformToken = () => mintToken({ sub: 'analytics', tenant_id: 'platform', roles: ['platform'] });

/** Events of a category the projector does not follow, so any data will do. */
const testEvent = (tenantId: string, n: number, note = ''): EventData => ({
  id: randomUUID(),
  type: 'FeedTestHappened',
  data: { n, note },
  metadata: { tenantId, correlationId: randomUUID(), causationId: null, actor: { type: 'service', id: 'test' } },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const until = async (what: string, check: () => boolean, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
};

interface Stream {
  status: number;
  events: FeedEvent[];
  ids: string[];
  comments: string[];
  close(): void;
}

/** Follows /v1/events/stream with fetch and the eventsource-parser, as a consumer in any language would. */
async function openStream(
  token: string,
  options: { query?: string; headers?: Record<string, string> } = {},
): Promise<Stream> {
  const controller = new AbortController();
  const response = await fetch(`${stack.url}/v1/events/stream${options.query ? `?${options.query}` : ''}`, {
    headers: { authorization: `Bearer ${token}`, ...options.headers },
    signal: controller.signal,
  });
  const stream: Stream = {
    status: response.status,
    events: [],
    ids: [],
    comments: [],
    close: () => controller.abort(),
  };
  if (response.status !== 200) {
    await response.body?.cancel();
    return stream;
  }
  const parser = createParser({
    onEvent: (message) => {
      stream.ids.push(message.id ?? '');
      stream.events.push(JSON.parse(message.data) as FeedEvent);
    },
    onComment: (comment) => stream.comments.push(comment.trim()),
  });
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
      parser.feed(decoder.decode(chunk, { stream: true }));
  })().catch(() => undefined);
  return stream;
}

/** Every event of the tenant through the page endpoint. */
const allPages = async (token: string, query = '', limit = 1000) => {
  const out: FeedEvent[] = [];
  let after = '';
  for (;;) {
    const res = await stack.request('GET', `/v1/events?limit=${limit}${after}${query}`, { token });
    expect(res.status).toBe(200);
    out.push(...res.body.events);
    if (res.body.next === null) return out;
    after = `&after=${res.body.next}`;
  }
};

const expectInOrderOnce = (events: FeedEvent[]) => {
  const positions = events.map((event) => event.position);
  for (let i = 1; i < positions.length; i++) expect(positions[i]!).toBeGreaterThan(positions[i - 1]!);
};

describe('GET /v1/events/stream and /v1/events', () => {
  it('8 concurrent writers: two consumers each get every event once, in global order, as the pages do', async () => {
    const tenant = newTenant();
    const token = serviceToken(tenant);
    const [first, second] = await Promise.all([openStream(token), openStream(token)]);
    const appended: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, writer) => {
        for (let i = 0; i < 40; i++) {
          const events = Array.from({ length: 1 + (i % 3) }, (_, k) => testEvent(tenant, i * 10 + k));
          await stack.store.appendToStream(`feedtest-${tenant}:${writer}`, events);
          appended.push(...events.map((event) => event.id));
        }
      }),
    );
    const total = appended.length;
    await until('both consumers', () => first!.events.length >= total && second!.events.length >= total);
    await sleep(100); // anything extra (a duplicate) would arrive now
    first!.close();
    second!.close();
    const log = await allPages(token);
    expect(log).toHaveLength(total);
    expect(new Set(log.map((event) => event.id))).toEqual(new Set(appended));
    expectInOrderOnce(log);
    for (const consumer of [first!, second!]) {
      expect(consumer.events.map((event) => event.position)).toEqual(log.map((event) => event.position));
      expect(consumer.events.map((event) => event.id)).toEqual(log.map((event) => event.id));
      expect(consumer.ids).toEqual(log.map((event) => String(event.position)));
    }
    expect(log[0]).toMatchObject({
      type: 'FeedTestHappened',
      schema_version: 1,
      stream: expect.stringMatching(/^feedtest-/),
      metadata: { tenantId: tenant },
      recorded_at: expect.any(String),
    });
  });

  it('resumes exactly after Last-Event-ID (which wins over ?after=), and after ?after=', async () => {
    const tenant = newTenant();
    const token = serviceToken(tenant);
    await stack.store.appendToStream(
      `feedtest-${tenant}:r`,
      Array.from({ length: 10 }, (_, n) => testEvent(tenant, n)),
    );
    const log = await allPages(token);
    expect(log).toHaveLength(10);
    const fourth = String(log[3]!.position);
    const resumed = await openStream(token, { headers: { 'last-event-id': fourth }, query: 'after=0' });
    const byQuery = await openStream(token, { query: `after=${fourth}` });
    await until('resumed streams', () => resumed.events.length >= 6 && byQuery.events.length >= 6);
    await stack.store.appendToStream(`feedtest-${tenant}:r`, [testEvent(tenant, 10)]);
    await until('the live event', () => resumed.events.length >= 7 && byQuery.events.length >= 7);
    await sleep(50);
    resumed.close();
    byQuery.close();
    const expected = [...log.slice(4).map((event) => event.id), expect.any(String)];
    expect(resumed.events.map((event) => event.id)).toEqual(expected);
    expect(byQuery.events.map((event) => event.id)).toEqual(expected);
    // Pages resume the same way: `next` is the cursor.
    const page = await stack.request('GET', `/v1/events?after=${fourth}&limit=3`, { token });
    expect(page.body.events.map((event: FeedEvent) => event.id)).toEqual(log.slice(4, 7).map((event) => event.id));
    expect(page.body.next).toBe(log[6]!.position);
    const end = await stack.request('GET', `/v1/events?after=${resumed.events.at(-1)!.position}`, { token });
    expect(end.body).toEqual({ events: [], next: null });
  });

  it("a tenant's service token never sees another tenant's events; a platform token sees every tenant", async () => {
    const [a, b] = [newTenant(), newTenant()];
    const streamA = await openStream(serviceToken(a));
    const streamB = await openStream(serviceToken(b));
    const platform = await openStream(platformToken());
    for (let i = 0; i < 5; i++) {
      await stack.store.appendToStream(`feedtest-${a}:x`, [testEvent(a, i)]);
      await stack.store.appendToStream(`feedtest-${b}:x`, [testEvent(b, i), testEvent(b, i + 100)]);
    }
    // Real events through the API too, in tenant a (a player joins the queue).
    const joined = await stack.request('POST', '/v1/matchmaking/queue', {
      token: playerToken(a, 'alice'),
      body: { time_control: '3+0', mode: 'rated' },
    });
    expect(joined.status).toBe(201);
    const mine = (events: FeedEvent[], tenant: string) => events.filter((event) => event.metadata.tenantId === tenant);
    await until('every stream', () => streamA.events.length >= 6 && streamB.events.length >= 10);
    await until(
      'the platform stream',
      () => mine(platform.events, a).length >= 6 && mine(platform.events, b).length >= 10,
    );
    await sleep(100);
    for (const s of [streamA, streamB, platform]) s.close();
    expect(streamA.events.every((event) => event.metadata.tenantId === a)).toBe(true);
    expect(streamA.events).toHaveLength(6);
    expect(streamB.events.every((event) => event.metadata.tenantId === b)).toBe(true);
    expect(streamB.events).toHaveLength(10);
    expect(mine(platform.events, a).map((event) => event.id)).toEqual(streamA.events.map((event) => event.id));
    expect((await allPages(serviceToken(a))).map((event) => event.id)).toEqual(streamA.events.map((e) => e.id));
    expect((await allPages(serviceToken(b))).every((event) => event.metadata.tenantId === b)).toBe(true);
    // Filters: the player category and event types are read in the same tenant scope.
    const players = await allPages(serviceToken(a), '&categories=player&types=QueueJoined,QueueCancelled');
    expect(players.map((event) => [event.type, event.stream])).toEqual([['QueueJoined', `player-${a}:alice`]]);
    expect(await allPages(serviceToken(b), '&categories=player')).toEqual([]);
  });

  it('403 problem+json for a player token, 401 without a token, on both endpoints', async () => {
    const tenant = newTenant();
    for (const path of ['/v1/events', '/v1/events/stream']) {
      const player = await stack.request('GET', path, { token: playerToken(tenant, 'bob') });
      expect(player.status).toBe(403);
      expect(player.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(player.body).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      const anonymous = await stack.request('GET', path);
      expect(anonymous.status).toBe(401);
    }
  });

  it('400 VALIDATION_FAILED for a bad cursor, an unknown type or category, a limit out of range', async () => {
    const token = serviceToken(newTenant());
    const bad = [
      '/v1/events?after=abc',
      '/v1/events?after=-5',
      '/v1/events?after=1.5',
      '/v1/events?after=99999999999999999999',
      '/v1/events?types=QueueJoined,NoSuchEvent',
      '/v1/events?categories=player,accounts',
      '/v1/events?categories=',
      '/v1/events?limit=0',
      '/v1/events?limit=1001',
      '/v1/events?limit=ten',
      '/v1/events/stream?after=x',
      '/v1/events/stream?types=Nope',
    ];
    for (const path of bad) {
      const res = await stack.request('GET', path, { token });
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    const badHeader = await stack.request('GET', '/v1/events/stream', { token, headers: { 'last-event-id': 'zz' } });
    expect(badHeader.status).toBe(400);
    expect(badHeader.body.errors).toEqual([{ path: 'Last-Event-ID', message: expect.any(String) }]);
  });

  it('sends heartbeat comments on a quiet stream', async () => {
    const stream = await openStream(serviceToken(newTenant()));
    expect(stream.status).toBe(200);
    await until('two heartbeats', () => stream.comments.filter((c) => c === 'heartbeat').length >= 2, 3000);
    stream.close();
    expect(stream.events).toEqual([]);
  });

  it('backpressure: a consumer that stops reading holds the stream back; it then gets everything in order', async () => {
    const tenant = newTenant();
    const total = 12_000;
    const note = 'x'.repeat(1500); // ≈ 1.8 kB per frame: ≈ 21 MB in all
    for (let i = 0; i < total; i += 500)
      await stack.store.appendToStream(
        `feedtest-${tenant}:bp`,
        Array.from({ length: 500 }, (_, k) => testEvent(tenant, i + k, note)),
      );
    const sentTotal = async () => {
      const metrics = await stack.api.registry.metrics();
      return Number(/^matchmaking_event_feed_events_sent_total (\d+)/m.exec(metrics)?.[1] ?? 0);
    };
    const before = await sentTotal();
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get(`${stack.url}/v1/events/stream`, { headers: { authorization: `Bearer ${serviceToken(tenant)}` } }, resolve)
        .on('error', reject);
    });
    expect(response.statusCode).toBe(200);
    response.pause(); // reads nothing: the socket's buffers fill, then res.write() returns false
    await sleep(1500);
    const stalled = (await sentTotal()) - before;
    await sleep(500);
    expect((await sentTotal()) - before).toBe(stalled); // not one more event read from the store
    expect(stalled).toBeLessThan(total / 2);
    const received: FeedEvent[] = [];
    const parser = createParser({ onEvent: (message) => received.push(JSON.parse(message.data) as FeedEvent) });
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => parser.feed(chunk));
    response.resume();
    await until('every event after the resume', () => received.length >= total, 30_000);
    response.destroy();
    expect(received.map((event) => event.data)).toEqual(Array.from({ length: total }, (_, n) => ({ n, note })));
    expectInOrderOnce(received);
  });

  it('the subscriber kit over this feed: lag, exactly-once effects across a restart, typed data', async () => {
    const tenant = newTenant();
    const consumer = await createTestSchema('feed_kit');
    try {
      await consumer.pool.query(`CREATE TABLE "${consumer.schema}".joined (user_id text NOT NULL, pool text NOT NULL)`);
      const join = (user: string) =>
        stack.request('POST', '/v1/matchmaking/queue', {
          token: playerToken(tenant, user),
          body: { time_control: '5+3', mode: 'casual' },
        });
      const kit = () =>
        createSubscriber({
          name: 'feed-kit-test',
          source: httpFeedSource({ url: stack.url, token: () => serviceToken(tenant), reconnectDelayMs: 20 }),
          db: consumer.pool,
          schema: consumer.schema,
          handlers: {
            async QueueJoined(event, { client }) {
              await client.query(`INSERT INTO "${consumer.schema}".joined VALUES ($1, $2)`, [
                event.data.userId,
                event.data.pool.key,
              ]);
            },
          },
        });
      for (const user of ['ann', 'ben', 'cid']) expect((await join(user)).status).toBe(201);
      const first = kit();
      expect(await first.lag()).toMatchObject({ events: 3, capped: false });
      await first.start();
      const three = (await allPages(serviceToken(tenant), '&types=QueueJoined')).at(-1)!.position;
      await first.waitFor(three);
      await first.stop();
      for (const user of ['dan', 'eve']) expect((await join(user)).status).toBe(201);
      const second = kit();
      await second.start(); // from the checkpoint the first one committed
      const five = (await allPages(serviceToken(tenant), '&types=QueueJoined')).at(-1)!.position;
      await second.waitFor(five);
      expect(await second.lag()).toEqual({ events: 0, capped: false, seconds: 0 });
      await second.stop();
      expect([first.stats().handled, second.stats().handled]).toEqual([3, 2]);
      const rows = await consumer.pool.query(`SELECT user_id, pool FROM "${consumer.schema}".joined ORDER BY user_id`);
      expect(rows.rows).toEqual(
        ['ann', 'ben', 'cid', 'dan', 'eve'].map((user_id) => ({ user_id, pool: '5+3:casual' })),
      );
    } finally {
      await consumer.drop();
    }
  });
});

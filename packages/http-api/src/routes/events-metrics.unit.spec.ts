import type { RequestHandler } from 'express';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { EventFeed } from '../application/event-feed.js';
import { eventRoutes } from './events.js';

describe('event feed routes', () => {
  it('can be mounted twice on one metrics registry (two apps in one process), sharing their metrics', async () => {
    const registry = new Registry();
    const pass: RequestHandler = (_req, _res, next) => next();
    const feed = {} as EventFeed;
    eventRoutes(feed, pass, { heartbeatMs: 0, registry });
    expect(() => eventRoutes(feed, pass, { heartbeatMs: 0, registry })).not.toThrow();
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(names).toEqual(['matchmaking_event_feed_events_sent_total', 'matchmaking_event_feed_streams']);
  });
});

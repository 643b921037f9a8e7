import { type HttpDouble, json, startHttpDouble } from '@mm/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpRatingProvider } from './http-rating-provider.js';
import { RatingUnavailableError } from './rating-provider.js';

let ratingApi: HttpDouble;
beforeAll(async () => {
  ratingApi = await startHttpDouble();
});
afterAll(() => ratingApi.close());
beforeEach(() => {
  ratingApi.requests.length = 0;
});

const query = { tenantId: 'tenant a', userId: 'alice/1', pool: '3+0:rated' };

describe('HTTP rating provider', () => {
  it('reads the rating for the tenant, user and pool', async () => {
    ratingApi.handle = (_req, res) => json(res, 200, { rating: 1712.4 });
    const provider = createHttpRatingProvider({ baseUrl: ratingApi.url, fallback: 1500 });
    await expect(provider.ratingFor(query)).resolves.toEqual({ rating: 1712, source: 'rating-api' });
    expect(ratingApi.requests[0]?.url).toBe('/v1/ratings/alice%2F1?tenant_id=tenant%20a&pool=3%2B0%3Arated');
  });

  it('caches a rating for its TTL', async () => {
    let clock = 0;
    ratingApi.handle = (_req, res) => json(res, 200, { rating: 1600 });
    const provider = createHttpRatingProvider({
      baseUrl: ratingApi.url,
      fallback: 1500,
      cacheTtlMs: 1000,
      now: () => clock,
    });
    await provider.ratingFor(query);
    await provider.ratingFor(query);
    expect(ratingApi.requests).toHaveLength(1);
    clock = 1001;
    await provider.ratingFor(query);
    expect(ratingApi.requests).toHaveLength(2);
  });

  it('falls back (and logs) when rating-api fails, times out or answers nonsense', async () => {
    const warnings: object[] = [];
    const logger = { warn: (o: object) => warnings.push(o), info() {} };
    const provider = createHttpRatingProvider({ baseUrl: ratingApi.url, fallback: 1450, timeoutMs: 100, logger });
    ratingApi.handle = (_req, res) => json(res, 503, {});
    await expect(provider.ratingFor(query)).resolves.toEqual({ rating: 1450, source: 'fallback' });
    ratingApi.handle = () => new Promise((resolve) => setTimeout(resolve, 300)).then(() => undefined);
    await expect(provider.ratingFor({ ...query, userId: 'bob' })).resolves.toEqual({
      rating: 1450,
      source: 'fallback',
    });
    ratingApi.handle = (_req, res) => json(res, 200, { rating: 'high' });
    await expect(provider.ratingFor({ ...query, userId: 'carol' })).resolves.toEqual({
      rating: 1450,
      source: 'fallback',
    });
    expect(warnings).toHaveLength(3);
  });

  it('rejects when the policy is "reject"', async () => {
    ratingApi.handle = (_req, res) => json(res, 500, {});
    const provider = createHttpRatingProvider({ baseUrl: ratingApi.url, fallback: 'reject' });
    await expect(provider.ratingFor(query)).rejects.toBeInstanceOf(RatingUnavailableError);
  });

  it('gives an unknown player the provisional rating', async () => {
    ratingApi.handle = (_req, res) => json(res, 404, {});
    const provider = createHttpRatingProvider({ baseUrl: ratingApi.url, fallback: 1500 });
    await expect(provider.ratingFor(query)).resolves.toEqual({ rating: 1500, source: 'rating-api' });
  });
});

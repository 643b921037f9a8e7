import { type HttpDouble, json, startHttpDouble } from '@mm/testing';

/**
 * rating-api double for e2e runs: `GET /v1/ratings/{user_id}` answers the rating encoded
 * in the user id as a `_r<rating>` suffix (so drivers choose ratings), else a stable hash
 * of the id spread over 1100–1900.
 */
export async function startRatingDouble(): Promise<HttpDouble> {
  const double = await startHttpDouble();
  double.handle = (req, res) => {
    const match = /^\/v1\/ratings\/([^?]+)/.exec(req.url);
    if (!match) return json(res, 404, { detail: 'not found' });
    const userId = decodeURIComponent(match[1]!);
    json(res, 200, { rating: ratingOf(userId) });
  };
  // The double records requests for tests; an e2e run makes thousands, so keep none.
  Object.defineProperty(double, 'requests', { get: () => [], set: () => undefined });
  return double;
}

/** The rating the double gives `userId`. */
export function ratingOf(userId: string): number {
  const encoded = /_r(\d{1,4})$/.exec(userId);
  if (encoded) return Number(encoded[1]);
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) h = Math.imul(h ^ userId.charCodeAt(i), 0x01000193);
  return 1100 + ((h >>> 0) % 801);
}

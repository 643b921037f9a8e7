import { type EventType, isEventType } from '@mm/contracts';
import { FEED_CATEGORIES, type FeedCategory, type FeedQuery } from '../application/event-feed.js';
import { problems } from '../errors/problem.js';

/** Page sizes of `GET /v1/events`. */
export const FEED_LIMIT = { default: 100, max: 1000 } as const;

const DIGITS = /^\d{1,16}$/;

/**
 * Parses a cursor (`after`, `Last-Event-ID`): a position the feed handed out. Absent or empty =
 * from the start. Anything else than a safe non-negative integer is a 400.
 */
export function parseCursor(value: unknown, name: string): number {
  if (value === undefined || value === '') return -1;
  if (typeof value !== 'string' || !DIGITS.test(value) || !Number.isSafeInteger(Number(value)))
    throw problems.validation([
      { path: name, message: 'must be a position the feed returned (a non-negative integer)' },
    ]);
  return Number(value);
}

const list = (value: unknown, name: string): string[] | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw problems.validation([{ path: name, message: 'give it once, comma-separated' }]);
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw problems.validation([{ path: name, message: 'must not be empty' }]);
  return [...new Set(items)];
};

/** Parses `types` and `categories`; unknown names are a 400 (a typo would otherwise read nothing, forever). */
export function parseFeedFilter(query: Record<string, unknown>): Omit<FeedQuery, 'after'> {
  const errors: { path: string; message: string }[] = [];
  const types = list(query.types, 'types');
  const unknownTypes = types?.filter((type) => !isEventType(type)) ?? [];
  if (unknownTypes.length > 0)
    errors.push({ path: 'types', message: `unknown event type: ${unknownTypes.join(', ')}` });
  const categories = list(query.categories, 'categories');
  const unknownCategories = categories?.filter((c) => !(FEED_CATEGORIES as readonly string[]).includes(c)) ?? [];
  if (unknownCategories.length > 0)
    errors.push({
      path: 'categories',
      message: `unknown category: ${unknownCategories.join(', ')} (known: ${FEED_CATEGORIES.join(', ')})`,
    });
  if (errors.length > 0) throw problems.validation(errors);
  return {
    ...(types ? { types: types as EventType[] } : {}),
    ...(categories ? { categories: categories as FeedCategory[] } : {}),
  };
}

/** Parses `limit`: 1 … FEED_LIMIT.max, default FEED_LIMIT.default. */
export function parseLimit(value: unknown): number {
  if (value === undefined || value === '') return FEED_LIMIT.default;
  const limit = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(limit >= 1 && limit <= FEED_LIMIT.max))
    throw problems.validation([{ path: 'limit', message: `must be an integer from 1 to ${FEED_LIMIT.max}` }]);
  return limit;
}

import { z } from 'zod';

/** An instant as ISO 8601 text (what `Date#toISOString()` produces; offsets accepted). */
export const Instant = z.iso.datetime({ offset: true }).meta({ description: 'an instant, ISO 8601' });

/** Ids of users, tenants, entries, matches, challenges, games: opaque non-empty strings. */
export const Id = z.string().min(1).max(200);

/** A rating as the rating service reports it (Glicko-style ratings may be fractional). */
export const Rating = z.number().finite();

export const Colour = z.enum(['white', 'black']);
export type Colour = z.infer<typeof Colour>;

/** Durations in milliseconds. */
export const Millis = z.number().int().nonnegative();

/** A player's acceptable opponent ratings at a moment, both ends inclusive. */
export const RatingWindow = z
  .object({ low: Rating, high: Rating })
  .refine((w) => w.low <= w.high, { message: 'low must be <= high', path: ['low'] });
export type RatingWindow = z.infer<typeof RatingWindow>;

/** The optional absolute bounds a player asked for when joining. */
export const RatingRange = z
  .object({ min: z.number().int().optional(), max: z.number().int().optional() })
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, {
    message: 'min must be <= max',
    path: ['min'],
  });
export type RatingRange = z.infer<typeof RatingRange>;

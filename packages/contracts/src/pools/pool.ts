import { z } from 'zod';
import { TimeControlText } from './time-control.js';

/** Rated games change ratings; casual games do not. */
export const GameMode = z.enum(['rated', 'casual']);
export type GameMode = z.infer<typeof GameMode>;

/** Key of a pool: `${timeControl}:${mode}`, e.g. `3+0:rated`. */
export const poolKey = (timeControl: string, mode: GameMode): string => `${timeControl}:${mode}`;

/** Splits a pool key back into its parts; throws on a malformed key. */
export const parsePoolKey = (key: string): { timeControl: string; mode: GameMode } => {
  const separator = key.lastIndexOf(':');
  const timeControl = key.slice(0, separator);
  const mode = GameMode.safeParse(key.slice(separator + 1));
  if (separator < 0 || !mode.success || !TimeControlText.safeParse(timeControl).success)
    throw new RangeError(`invalid pool key "${key}" (expected e.g. "3+0:rated")`);
  return { timeControl, mode: mode.data };
};

/** A pool as carried in events (camelCase). `key` must equal `poolKey(timeControl, mode)`. */
export const Pool = z
  .object({
    key: z.string().meta({ description: '`<timeControl>:<mode>`, e.g. `3+0:rated`' }),
    timeControl: TimeControlText,
    mode: GameMode,
  })
  .refine((pool) => pool.key === poolKey(pool.timeControl, pool.mode), {
    message: 'pool key must be "<timeControl>:<mode>"',
    path: ['key'],
  });
export type Pool = z.infer<typeof Pool>;

/** Builds a {@link Pool} value from its parts. */
export const makePool = (timeControl: string, mode: GameMode): Pool => ({
  key: poolKey(timeControl, mode),
  timeControl,
  mode,
});

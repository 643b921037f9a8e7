import { z } from 'zod';

const rate = (fallback: number) => z.coerce.number().min(0).max(1).default(fallback);
const millis = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);

/**
 * The simulator's settings, from the environment. Fault rates are fractions of
 * `POST /internal/games` calls with a new Idempotency-Key (each draws once; a retry draws
 * again unless its key already made a game, which is answered with that game).
 */
export const simEnvSchema = z
  .object({
    PORT: z.coerce.number().int().nonnegative().default(8002).describe('HTTP port (0 = any free port).'),
    HOST: z.string().default('127.0.0.1').describe('Interface to listen on.'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SIM_LATENCY_MS: millis(0).describe('Added to every answer.'),
    SIM_LATENCY_JITTER_MS: millis(0).describe('Uniform extra latency in [0, jitter].'),
    SIM_ERROR_RATE: rate(0).describe('Fraction of create calls answering 503 (nothing created).'),
    SIM_TIMEOUT_RATE: rate(0).describe(
      'Fraction of create calls where the game IS created, then the reply hangs past the caller timeout.',
    ),
    SIM_TIMEOUT_MS: millis(30_000).describe('How long a "timeout" call hangs before it answers 504.'),
    SIM_DUPLICATE_RATE: rate(0).describe(
      'Fraction of create calls where the game IS created but the reply is lost (500); a retry with the same key gets it.',
    ),
    SIM_REJECT_RATE: rate(0).describe('Fraction of create calls refused for good (422, nothing created).'),
    SIM_SEED: z.string().optional().describe('Seed of the fault draws (reproducible runs); default: random.'),
    SIM_ONE_GAME_PER_PLAYER: z
      .enum(['true', 'false', '1', '0'])
      .default('true')
      .transform((v) => v === 'true' || v === '1')
      .describe('Refuse (409, no game_id) a game for a player who already has an active one.'),
    SIM_TOKEN: z
      .string()
      .optional()
      .transform((v) => (v?.trim() ? v : undefined))
      .describe('When set, /internal calls need `Authorization: Bearer <token>`.'),
  })
  .refine((c) => c.SIM_ERROR_RATE + c.SIM_TIMEOUT_RATE + c.SIM_DUPLICATE_RATE + c.SIM_REJECT_RATE <= 1, {
    message: 'SIM_ERROR_RATE + SIM_TIMEOUT_RATE + SIM_DUPLICATE_RATE + SIM_REJECT_RATE must be ≤ 1',
  });

export type SimConfig = z.output<typeof simEnvSchema>;

export class SimConfigError extends Error {
  readonly code = 'SIM_CONFIG_INVALID';
  constructor(readonly issues: string[]) {
    super(`invalid live-game-sim configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'SimConfigError';
  }
}

/** Reads and validates the settings; throws {@link SimConfigError} listing every bad variable. */
export function loadSimConfig(env: Record<string, string | undefined> = process.env): SimConfig {
  const parsed = simEnvSchema.safeParse(env);
  if (!parsed.success)
    throw new SimConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  return parsed.data;
}

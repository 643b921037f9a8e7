import { z } from 'zod';

/**
 * Every setting of the service, read from the environment (12-factor). The names and
 * defaults of the design this service replaces are kept (PORT, DATABASE_URL,
 * MAX_QUEUE_TIME_SECONDS, …; docs/architecture.md); the rest are ours. The README's
 * configuration table and .env.example are generated from the `describe()` texts here
 * (`pnpm docs:config`), so this file is the one place a setting is defined.
 */
const int = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
const positive = (fallback: number) => z.coerce.number().positive().default(fallback);
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

const TIME_CONTROL = /^(\d{1,3})\+(\d{1,3})$/;
/** A browser origin: scheme, host and optional port, nothing else. */
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;
const PUBLIC_URL = /^https?:\/\/[^/\s?#]+(\/[^\s?#]*[^/\s?#])?$/;
/** A comma-separated list (blanks dropped). */
const commaList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development').describe('Runtime environment.'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level.'),
  PORT: int(8003).describe('HTTP port of the API.'),
  OPS_PORT: optionalString
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      const port = Number(v);
      if (Number.isInteger(port) && port >= 0 && port <= 65_535) return port;
      ctx.addIssue({ code: 'custom', message: `not a port: "${v}" (0–65535)` });
      return z.NEVER;
    })
    .describe(
      "Port of the process's ops server (/metrics, /health, /ready; keep it off the public network). Default per process: API 9301, projector 9302, worker 9303; 0 = any free port (logged).",
    ),
  OPS_HOST: optionalString.describe('Interface the ops server listens on (e.g. 127.0.0.1). Default: every interface.'),
  DATABASE_URL: z
    .string()
    .default('postgres://postgres@127.0.0.1:5432/matchmaking')
    .describe('PostgreSQL for read models, idempotency keys and (by default) the event store.'),
  DATABASE_POOL_SIZE: z.coerce
    .number()
    .int()
    .min(3, 'at least 3 (a worker has 3 pools)')
    .default(20)
    .describe(
      'PostgreSQL connections one process (API, worker, projector, CLI) holds at most, split among its pools (packages/config/src/pool-size.ts); its LISTEN and lock connections come on top.',
    ),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379').describe('Redis for queue views and BullMQ.'),
  REDIS_PREFIX: z.string().default('mm').describe('Prefix of every Redis key and BullMQ queue of this deployment.'),
  REDIS_CLUSTER_NODES: commaList('')
    .refine((nodes) => nodes.every((node) => /^[^\s:]+:\d{1,5}$/.test(node)), 'host:port,host:port,…')
    .describe(
      'Redis Cluster: host:port of some of its nodes, comma-separated (the others are discovered). When set, every process connects to the cluster instead of REDIS_URL (whose user, password and rediss:// TLS still apply).',
    ),
  EVENT_STORE_URL: optionalString.describe(
    'Event store: postgres://… (embedded default), esdb://… (EventStoreDB) or memory:// (tests). Default: DATABASE_URL.',
  ),
  EVENT_STORE_SCHEMA: z.string().default('event_store').describe('PostgreSQL schema of the postgres event store.'),
  EVENT_DATA_COMPRESSION: flag(true).describe(
    'PostgreSQL event store: store event data compressed with a dictionary per event type, trained from the first events of each type (≈ 40 % of the JSON). false: plain json, readable in SQL. Either way every reader reads both.',
  ),
  READ_MODEL_SCHEMA: z.string().default('read_models').describe('PostgreSQL schema of the read models.'),
  API_SCHEMA: z.string().default('matchmaking_api').describe('PostgreSQL schema of the API state (idempotency keys).'),
  POOLS: z
    .string()
    .default('1+0,2+1,3+0,3+2,5+0,5+3,10+0,10+5,15+10,30+0')
    .describe('Time controls players can queue for (each in rated and casual mode).')
    .transform((v, ctx) => {
      const list = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const tc of list) {
        if (!TIME_CONTROL.test(tc))
          ctx.addIssue({ code: 'custom', message: `bad time control "${tc}" (want e.g. 3+2)` });
      }
      return list;
    }),
  MAX_QUEUE_TIME_SECONDS: positive(600).describe('A searching entry older than this gets QueueTimedOut.'),
  INITIAL_RATING_WINDOW: int(100).describe('Half-width of the rating window when a player joins.'),
  RATING_WINDOW_WIDENING_STEP: int(25).describe('Points the window widens by each interval.'),
  RATING_WINDOW_WIDENING_INTERVAL: positive(10).describe('Seconds between window widenings.'),
  MAX_RATING_WINDOW: int(500).describe('Cap on the half-width of the rating window.'),
  REMATCH_COOLDOWN_SECONDS: int(0).describe('Two players who just played are not paired again within this time.'),
  WORKER_INTERVAL_SECONDS: positive(1).describe(
    'Scheduler tick for pools with searching entries (widening, timeouts).',
  ),
  MATCH_PAIRS_PER_BATCH: int(50).describe('Pairs committed per pairing job before the pass yields.'),
  WORKER_CONCURRENCY: int(4).describe('Pairing jobs a worker process runs at once (different pools).'),
  WAVE_POOLS: z
    .string()
    .default('')
    .describe(
      'Optional wave mode per pool: "3+0:rated=12/20,…" = pass every 12 s or once 20 players wait (instead of immediately).',
    ),
  PAIRING_POLICIES: z
    .string()
    .default('')
    .describe(
      'Pairing policy per pool: "3+0:rated=window@60/1/1/500,1+0:casual=seed" (window@<initial>/<step>/<interval s>/<cap>: half-window initial + step every interval, capped; seed = ±100 +25 per 10 s, cap 500; settings = the four window settings above); "*=…" sets every other pool. Pools not named use the window settings. `pnpm sim --frontier` prints the recommended window per arrival rate.',
    ),
  LIVE_GAME_API_URL: z.string().url().default('http://127.0.0.1:8002').describe('live-game-api base URL.'),
  LIVE_GAME_API_TIMEOUT_SECONDS: positive(5).describe('Timeout of each call to live-game-api.'),
  LIVE_GAME_API_TOKEN: optionalString.describe('Bearer token for live-game-api internal calls (optional).'),
  GAME_CREATION_ATTEMPTS: int(6).describe('Attempts (with exponential backoff) before a match is aborted.'),
  GAME_CREATION_BACKOFF_MS: int(500).describe('First retry delay of game creation; doubles each attempt.'),
  CLAIM_RECOVERY_SECONDS: positive(5).describe(
    'A queue claim this old without MatchCreated (worker died mid-commit) is completed or released by the scheduler tick.',
  ),
  GAME_CREATION_REDRIVE_SECONDS: positive(2).describe(
    'A match this long without its game (CREATING_GAME) gets a game-creation job from the scheduler tick: its first attempt died with its worker, or its job was lost. An attempt still running then (a slow live-game-api) gets a second one with the same idempotency key, which is harmless.',
  ),
  ACTIVE_GAME_CHECK: flag(true).describe('Ask live-game-api whether the player has an active game before queueing.'),
  ACTIVE_GAME_CHECK_ON_FAILURE: z
    .enum(['allow', 'reject'])
    .default('allow')
    .describe('When the active-game check fails: allow the join (logged) or reject with 503.'),
  RATING_API_URL: optionalString.describe('rating-api base URL; unset = every player gets DEFAULT_RATING.'),
  RATING_API_TIMEOUT_SECONDS: positive(1).describe('Timeout of each call to rating-api.'),
  RATING_CACHE_TTL_SECONDS: int(30).describe('How long a fetched rating is reused.'),
  DEFAULT_RATING: int(1500).describe('Rating used when no rating-api is configured.'),
  RATING_FALLBACK: z
    .union([z.literal('reject'), z.coerce.number().int().nonnegative()])
    .default(1500)
    .describe('When rating-api is down: a rating to use (logged), or "reject" (503).'),
  JWT_SECRET: optionalString.describe('HS256 secret; enables HS256 tokens.'),
  JWT_PUBLIC_KEY: optionalString.describe(
    'RSA or P-256 public key (PEM, \\n allowed); enables RS256 or ES256 tokens signed with it.',
  ),
  JWT_JWKS_URL: optionalString
    .refine((v) => v === undefined || /^https?:\/\//.test(v), 'an http(s) URL')
    .describe(
      "The identity provider's JWKS endpoint; enables RS256/ES256 tokens signed with its keys (fetched, cached, fetched again for an unknown kid).",
    ),
  JWT_JWKS_CACHE_SECONDS: positive(600).describe(
    'How long keys fetched from JWT_JWKS_URL are used before a new fetch.',
  ),
  JWT_JWKS_COOLDOWN_SECONDS: int(30).describe(
    'A token with an unknown kid fetches JWT_JWKS_URL again (key rotation) at most this often.',
  ),
  JWT_JWKS_TIMEOUT_SECONDS: positive(5).describe('Timeout of a fetch of JWT_JWKS_URL.'),
  JWT_ISSUER: optionalString.describe('Required `iss` claim, when set.'),
  JWT_AUDIENCE: optionalString.describe('Required `aud` claim, when set.'),
  JWT_CLOCK_TOLERANCE_SECONDS: int(5).describe('Allowed clock skew for exp/nbf.'),
  ADMIN_ROLES: z
    .string()
    .default('admin,service')
    .describe('Roles (JWT `roles`/`role` claim) allowed on /internal routes.')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  EVENT_FEED_PLATFORM_ROLES: z
    .string()
    .default('platform')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .describe("Roles that may read every tenant's events on /v1/events (ADMIN_ROLES read their own tenant's only)."),
  EVENT_FEED_HEARTBEAT_MS: int(15_000).describe(
    'A comment line is sent on an idle /v1/events/stream this often, so proxies keep it open.',
  ),
  IDEMPOTENCY_TTL_SECONDS: int(86_400).describe('How long Idempotency-Key responses are kept (at least 24 h).'),
  REQUEST_BODY_LIMIT: z.string().default('16kb').describe('Largest accepted JSON body.'),
  RATE_LIMIT_WINDOW_SECONDS: positive(60).describe(
    'Window of the command rate limits (fixed, counted in Redis and shared by every API instance).',
  ),
  RATE_LIMIT_USER_COMMANDS: int(60).describe(
    'Commands (POST/DELETE on /v1/matchmaking) one user may send per window; then 429 RATE_LIMITED. 0 = no limit.',
  ),
  RATE_LIMIT_TENANT_COMMANDS: int(30_000).describe(
    "Commands a tenant's users may send together per window; then 429 RATE_LIMITED. 0 = no limit.",
  ),
  RATE_LIMIT_EXEMPT_ROLES: commaList('service').describe('Roles whose tokens are never rate limited (service tokens).'),
  CORS_ORIGINS: commaList('')
    .refine((origins) => origins.every((o) => ORIGIN.test(o)), 'origins like https://app.example.com, comma-separated')
    .describe(
      'Browser origins allowed to call the API (CORS), comma-separated, e.g. https://play.example.com; empty = none.',
    ),
  API_PUBLIC_URL: optionalString
    .refine((v) => v === undefined || PUBLIC_URL.test(v), 'an http(s) URL without a trailing slash')
    .describe(
      'Public base URL of the API, e.g. https://api.example.com: the `servers` entry of /openapi.json. Default: the server the document was fetched from.',
    ),
  CHALLENGE_TTL_SECONDS: positive(120).describe('A pending challenge expires after this.'),
  MAX_PENDING_CHALLENGES: int(10).describe('Pending outgoing challenges per user.'),
  PROJECTOR_BATCH_SIZE: int(500).describe('Events read per batch while the projector catches up.'),
  PROJECTOR_READ_INTERVAL_MS: int(20).describe(
    'Least time between two reads of the log by the live projector: under load, the events of that time are applied as one batch (fewer transactions and round trips per event); an event after a quiet spell is read at once.',
  ),
  READ_MODEL_RETENTION_DAYS: z.coerce
    .number()
    .nonnegative()
    .default(7)
    .describe(
      'Queue entries, matches and challenges that ended more than this many days ago leave the read models (the log and its archives keep them); 0 keeps them forever.',
    ),
  RETENTION_INTERVAL_SECONDS: positive(300).describe(
    'How often the leading projector applies the read-model retention.',
  ),
  RETENTION_BATCH_SIZE: z.coerce
    .number()
    .int()
    .positive()
    .default(1000)
    .describe(
      'Rows the retention deletes per transaction (short transactions that skip locked rows, so the projector never waits).',
    ),
  EVENT_ARCHIVE_DIR: z
    .string()
    .default('.local/event-archive')
    .describe(
      'Folder of the event log archive (`mm archive` writes it; mm rebuild, audit, explain and history read it before the live log). Keep it and back it up.',
    ),
});

/** The ops server's port of each process when OPS_PORT is not set (one host can run one of each). */
export const OPS_PORT_DEFAULTS = { api: 9301, projector: 9302, worker: 9303 } as const;

/** The port `process` serves /metrics, /health and /ready on: OPS_PORT, else its default. */
export const opsPort = (config: Pick<Config, 'OPS_PORT'>, process: keyof typeof OPS_PORT_DEFAULTS): number =>
  config.OPS_PORT ?? OPS_PORT_DEFAULTS[process];

/** How long the queue views remember a player's recent games (so the longest rematch cool-down). */
export const MAX_REMATCH_COOLDOWN_SECONDS = 3600;

export type Env = z.input<typeof envSchema>;
export type Config = z.output<typeof envSchema> & { eventStoreUrl: string };

/** Names of every setting (used to check docker-compose and docs against the schema). */
export const configKeys = Object.keys(envSchema.shape) as (keyof typeof envSchema.shape)[];

/**
 * The JWT_SECRET defaults written in this repository (docker-compose.yml, infra/start.sh and
 * the `pnpm jwt` tool): public, so a production process refuses to start with one of them.
 */
export const PLACEHOLDER_JWT_SECRETS: readonly string[] = [
  'local-only-change-me',
  'local-dev-secret-not-for-production',
];

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly issues: string[]) {
    // One problem is one line (what a container log or a shell shows best); several are listed.
    super(
      issues.length === 1
        ? `invalid configuration: ${issues[0]} (see README "Configuration")`
        : `invalid configuration:\n  ${issues.join('\n  ')}\nFix the environment variables above (see README "Configuration").`,
    );
    this.name = 'ConfigError';
  }
}

/** Reads and validates the configuration; throws {@link ConfigError} listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const config = parsed.data;
  if (config.NODE_ENV === 'production' && config.JWT_SECRET && PLACEHOLDER_JWT_SECRETS.includes(config.JWT_SECRET)) {
    throw new ConfigError([
      'JWT_SECRET is the public placeholder of docker-compose.yml / infra/start.sh: anyone could mint tokens; set a secret of your own (e.g. openssl rand -hex 32)',
    ]);
  }
  if (config.MAX_RATING_WINDOW < config.INITIAL_RATING_WINDOW) {
    throw new ConfigError(['MAX_RATING_WINDOW must be ≥ INITIAL_RATING_WINDOW']);
  }
  if (config.REMATCH_COOLDOWN_SECONDS > MAX_REMATCH_COOLDOWN_SECONDS) {
    // The queue views keep a player's recent games for an hour (RECENT_TTL_SECONDS of @mm/projections).
    throw new ConfigError([
      `REMATCH_COOLDOWN_SECONDS must be ≤ ${MAX_REMATCH_COOLDOWN_SECONDS} (recent games are kept 1 h)`,
    ]);
  }
  parsePairingPolicies(config.PAIRING_POLICIES);
  return { ...config, eventStoreUrl: config.EVENT_STORE_URL ?? config.DATABASE_URL };
}

/** Wave-mode settings parsed from WAVE_POOLS: pool key → pass interval and minimum waiting players. */
export function parseWavePools(value: string): Map<string, { intervalSeconds: number; minPlayers: number }> {
  const out = new Map<string, { intervalSeconds: number; minPlayers: number }>();
  for (const part of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(\d{1,3}\+\d{1,3}:(?:rated|casual))=(\d+(?:\.\d+)?)\/(\d+)$/.exec(part);
    if (!m) throw new ConfigError([`WAVE_POOLS: bad entry "${part}" (want e.g. 3+0:rated=12/20)`]);
    out.set(m[1]!, { intervalSeconds: Number(m[2]), minPlayers: Number(m[3]) });
  }
  return out;
}

/** The window of a pairing policy: half-width initial + step × floor(wait / interval), at most max. */
export interface PolicyWindows {
  initialWindow: number;
  wideningStep: number;
  wideningIntervalSeconds: number;
  maxWindow: number;
}

/** A pool's pairing policy: the window settings (`settings`), the old design's (`seed`), or explicit windows. */
export type PairingPolicy = { name: 'settings' } | { name: 'seed' } | ({ name: 'window' } & PolicyWindows);

/** The old design's windows, kept as the named policy `seed`: ±100, +25 every 10 s, capped at 500. */
export const SEED_POLICY_WINDOWS: Readonly<PolicyWindows> = Object.freeze({
  initialWindow: 100,
  wideningStep: 25,
  wideningIntervalSeconds: 10,
  maxWindow: 500,
});

const NUMBER = '(\\d+(?:\\.\\d+)?)';
const WINDOW_POLICY = new RegExp(`^window@${NUMBER}/${NUMBER}/${NUMBER}/${NUMBER}$`);

/** One policy text: `settings`, `seed` or `window@<initial>/<step>/<interval s>/<cap>`. */
export function parsePairingPolicy(text: string): PairingPolicy {
  const t = text.trim();
  if (t === 'settings' || t === 'seed') return { name: t };
  const m = WINDOW_POLICY.exec(t);
  if (!m) throw new ConfigError([`PAIRING_POLICIES: bad policy "${text}" (want seed, settings or window@60/1/1/500)`]);
  const [initialWindow, wideningStep, wideningIntervalSeconds, maxWindow] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
  ];
  if (wideningIntervalSeconds <= 0 || maxWindow < initialWindow)
    throw new ConfigError([`PAIRING_POLICIES: "${text}" needs an interval > 0 and a cap ≥ the initial window`]);
  return { name: 'window', initialWindow, wideningStep, wideningIntervalSeconds, maxWindow };
}

/** PAIRING_POLICIES parsed: pool key (or `*`) → policy. */
export function parsePairingPolicies(value: string): Map<string, PairingPolicy> {
  const out = new Map<string, PairingPolicy>();
  for (const part of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(\*|\d{1,3}\+\d{1,3}:(?:rated|casual))=(.+)$/.exec(part);
    if (!m)
      throw new ConfigError([
        `PAIRING_POLICIES: bad entry "${part}" (want e.g. 3+0:rated=seed or *=window@60/1/1/500)`,
      ]);
    if (out.has(m[1]!)) throw new ConfigError([`PAIRING_POLICIES: pool ${m[1]} named twice`]);
    out.set(m[1]!, parsePairingPolicy(m[2]!));
  }
  return out;
}

/** The policy a pool pairs with: its own entry of PAIRING_POLICIES, else `*`, else `settings`. */
export function poolPairingPolicy(config: Pick<Config, 'PAIRING_POLICIES'>, poolKey: string): PairingPolicy {
  const policies = parsePairingPolicies(config.PAIRING_POLICIES);
  return policies.get(poolKey) ?? policies.get('*') ?? { name: 'settings' };
}

/**
 * The pairing settings of a pool (of the window settings when no pool is given), in the shape
 * `@mm/pairing`'s `PairingConfig` takes: the windows of the pool's policy (PAIRING_POLICIES) and
 * the rematch cool-down.
 */
export const pairingSettings = (config: Config, poolKey?: string) => {
  const policy = poolKey === undefined ? { name: 'settings' as const } : poolPairingPolicy(config, poolKey);
  const windows: PolicyWindows =
    policy.name === 'seed'
      ? SEED_POLICY_WINDOWS
      : policy.name === 'window'
        ? policy
        : {
            initialWindow: config.INITIAL_RATING_WINDOW,
            wideningStep: config.RATING_WINDOW_WIDENING_STEP,
            wideningIntervalSeconds: config.RATING_WINDOW_WIDENING_INTERVAL,
            maxWindow: config.MAX_RATING_WINDOW,
          };
  return {
    initialWindow: windows.initialWindow,
    wideningStep: windows.wideningStep,
    wideningIntervalSeconds: windows.wideningIntervalSeconds,
    maxWindow: windows.maxWindow,
    rematchCooldownSeconds: config.REMATCH_COOLDOWN_SECONDS,
  };
};

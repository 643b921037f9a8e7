import {
  ActiveMatchmakingResponse,
  ChallengeListResponse,
  ChallengeResponse,
  CreateChallengeRequest,
  DeclineChallengeRequest,
  JoinQueueRequest,
  Problem,
  QueueEntryResponse,
  QueueSummaryResponse,
} from '@mm/contracts';
import { z } from 'zod';

/** One event of the feed (`GET /v1/events`, and each `data:` line of `GET /v1/events/stream`). */
const FeedEvent = z.object({
  position: z.number().int().nonnegative().describe('Global position: unique, increasing, not dense. The cursor.'),
  id: z.uuid(),
  type: z.string().describe('An event type of @mm/contracts (its JSON Schema gives `data`).'),
  schema_version: z.number().int().positive(),
  stream: z.string().describe('player-<tenant>:<user>, match-<id> or challenge-<id>'),
  data: z.record(z.string(), z.unknown()),
  metadata: z
    .object({ tenantId: z.string(), correlationId: z.string(), causationId: z.string().nullable() })
    .catchall(z.unknown()),
  recorded_at: z.iso.datetime(),
});
const EventFeedPage = z.object({
  events: z.array(FeedEvent),
  next: z
    .number()
    .int()
    .nullable()
    .describe("Pass as `after` for the next page (the last event's position); null when the page is empty."),
});

/** The schemas of the HTTP contract, by component name (generated from `@mm/contracts`). */
export const openApiSchemas = {
  JoinQueueRequest,
  QueueEntryResponse,
  ActiveMatchmakingResponse,
  QueueSummaryResponse,
  CreateChallengeRequest,
  DeclineChallengeRequest,
  ChallengeResponse,
  ChallengeListResponse,
  Problem,
  EventFeedPage,
  FeedEvent,
} satisfies Record<string, z.ZodType>;

type Component = keyof typeof openApiSchemas;
const ref = (name: Component) => ({ $ref: `#/components/schemas/${name}` });

// ---------------------------------------------------------------------------------------------
// Examples: one story (alice and bob of tenant-1 in the 3+0 rated pool), valid against the schemas
// (the unit test parses each with its zod schema, `redocly lint` checks them against the JSON Schema).

const ALICE_ENTRY = '0b6f4d3e-8a51-4c1e-9d2a-3f7c1e5b9a10';
const MATCH = 'd7043cea-d4a8-40e1-a78c-2782855dbeeb';
const GAME = 'g-7f3a91';
const CHALLENGE = '5c2e8f1a-7b4d-4e9a-b1c3-6d8f0a2e4b71';

const searchingEntry = {
  queue_entry_id: ALICE_ENTRY,
  status: 'SEARCHING',
  pool: { key: '3+0:rated', time_control: '3+0', mode: 'rated' },
  rating: 1500,
  rating_range: null,
  enqueued_at: '2026-12-01T12:00:00.000Z',
  time_in_queue_seconds: 0,
  rating_window: { low: 1400, high: 1600 },
  position_estimate: 1,
  estimated_wait_seconds: 4.5,
  match_id: null,
  game_id: null,
  colour: null,
  opponent_id: null,
  ended_at: null,
};
const matchedEntry = {
  ...searchingEntry,
  status: 'MATCHED',
  time_in_queue_seconds: 3.2,
  rating_window: null,
  position_estimate: null,
  estimated_wait_seconds: null,
  match_id: MATCH,
  game_id: GAME,
  colour: 'white',
  opponent_id: 'bob',
};
const cancelledEntry = {
  ...searchingEntry,
  status: 'CANCELLED',
  time_in_queue_seconds: 12.4,
  rating_window: null,
  position_estimate: null,
  estimated_wait_seconds: null,
  ended_at: '2026-12-01T12:00:12.400Z',
};
const pendingChallenge = {
  challenge_id: CHALLENGE,
  status: 'PENDING',
  challenger_id: 'alice',
  opponent_id: 'bob',
  time_control: '5+3',
  mode: 'casual',
  color: 'random',
  message: 'rematch?',
  created_at: '2026-12-01T12:00:00.000Z',
  expires_at: '2026-12-01T12:02:00.000Z',
  match_id: null,
  game_id: null,
  decline_reason: null,
};
const feedEvent = {
  position: 8540586463,
  id: '3f1d2c4b-5a69-4788-9e0f-a1b2c3d4e5f6',
  type: 'MatchCreated',
  schema_version: 1,
  stream: `match-${MATCH}`,
  data: { matchId: MATCH, tenantId: 'tenant-1', poolKey: '3+0:rated' },
  metadata: { tenantId: 'tenant-1', correlationId: 'pairing-pass', causationId: null },
  recorded_at: '2026-12-01T12:00:03.200Z',
};

// ---------------------------------------------------------------------------------------------
// Problems: every failure is `application/problem+json` with a stable `code`.

/** The stable codes of the API: HTTP status, title and an example detail. */
export const problemCodes = {
  VALIDATION_FAILED: [400, 'The request is not valid', 'mode: Invalid option: expected one of "rated"|"casual"'],
  UNKNOWN_POOL: [400, 'Unknown pool', 'Time control 4+0 is not offered; choose one of 1+0, 2+1, 3+0, 3+2, 5+0, 5+3.'],
  MALFORMED_JSON: [400, 'The body is not valid JSON', 'Unexpected token } in JSON at position 12'],
  INVALID_IDEMPOTENCY_KEY: [400, 'Invalid Idempotency-Key', 'Use 1–255 visible ASCII characters.'],
  INVALID_CURSOR: [400, 'Invalid cursor', 'Pass back the next_cursor of a previous page unchanged.'],
  CANNOT_CHALLENGE_SELF: [400, 'cannot challenge self', 'A player cannot challenge themselves.'],
  MISSING_TOKEN: [401, 'Authentication failed', 'Send "Authorization: Bearer <JWT>".'],
  INVALID_TOKEN: [401, 'Authentication failed', 'invalid signature'],
  TOKEN_EXPIRED: [401, 'Authentication failed', 'The token has expired.'],
  TOKEN_NOT_ACTIVE: [401, 'Authentication failed', 'The token is not valid yet.'],
  MISSING_CLAIMS: [401, 'Authentication failed', 'The token needs a "tenant_id" claim.'],
  FORBIDDEN: [403, 'Not allowed', 'This route needs one of the roles: admin, service.'],
  NOT_ALLOWED: [403, 'not allowed', 'Only the challenged player can accept a challenge.'],
  QUEUE_ENTRY_NOT_FOUND: [404, 'No such queue entry', `queue entry ${ALICE_ENTRY} not found`],
  CHALLENGE_NOT_FOUND: [404, 'challenge not found', `challenge ${CHALLENGE} not found`],
  ALREADY_IN_QUEUE: [409, 'Already in the queue', 'The player already has a searching queue entry.'],
  ACTIVE_GAME_EXISTS: [409, 'An active game exists', `Finish game ${GAME} first.`],
  CANNOT_CANCEL: [409, 'The queue entry cannot be cancelled', 'The entry is MATCHED.'],
  INVALID_CHALLENGE_STATE: [409, 'invalid challenge state', 'The challenge is ACCEPTED.'],
  CANNOT_ACCEPT_CHALLENGE: [409, 'cannot accept challenge', 'The challenger is playing another game.'],
  IDEMPOTENCY_IN_PROGRESS: [409, 'A request with this Idempotency-Key is still running', 'Retry shortly.'],
  PAYLOAD_TOO_LARGE: [413, 'The body is too large', 'The limit is 16kb.'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'Send the body as application/json', 'Send the body as application/json.'],
  IDEMPOTENCY_KEY_REUSED: [
    422,
    'Idempotency-Key already used for another request',
    'Use a new key for a different request.',
  ],
  RATE_LIMITED: [
    429,
    'Too many commands',
    'At most 60 commands per 60 s per user; retry in 42 s. Nothing was changed.',
  ],
  TOO_MANY_PENDING_CHALLENGES: [429, 'too many pending challenges', 'At most 10 pending outgoing challenges.'],
  MATCHMAKING_UNAVAILABLE: [
    503,
    'Matchmaking is temporarily unavailable',
    'A backing service did not answer; nothing was changed. Retry shortly.',
  ],
  AUTH_UNAVAILABLE: [
    503,
    "The identity provider's keys could not be fetched",
    'JWT_JWKS_URL https://id.example.com/.well-known/jwks.json: no answer in time. Retry shortly.',
  ],
} as const satisfies Record<string, readonly [status: number, title: string, detail: string]>;
type Code = keyof typeof problemCodes;

const extras: Partial<Record<Code, Record<string, unknown>>> = {
  VALIDATION_FAILED: { errors: [{ path: 'mode', message: 'Invalid option: expected one of "rated"|"casual"' }] },
  ACTIVE_GAME_EXISTS: { game_id: GAME },
  UNKNOWN_POOL: { errors: [{ path: 'time_control', message: 'not an offered time control' }] },
  RATE_LIMITED: { limit_scope: 'user', retry_after_seconds: 42 },
};

/** The body the API sends for `code` (see `problemBody` in errors/problem.ts). */
export const problemExample = (code: Code) => {
  const [status, title, detail] = problemCodes[code];
  return {
    type: `https://errors.matchmaking.dev/${code.toLowerCase().replaceAll('_', '-')}`,
    title,
    status,
    detail,
    code,
    request_id: '6c0e9b1f-2d4a-4f8e-b3c5-7a9d1e2f4b60',
    ...extras[code],
  };
};

const header = (description: string, schema: Record<string, unknown>) => ({ description, schema });
const rateLimitHeaders = {
  'RateLimit-Limit': header('Commands allowed per window (the limit that applies: user, or tenant when it refused).', {
    type: 'integer',
  }),
  'RateLimit-Remaining': header('Commands left in the current window.', { type: 'integer' }),
  'RateLimit-Reset': header('Seconds until the window starts again.', { type: 'integer' }),
  'RateLimit-Policy': header('The limit and its window, e.g. `60;w=60`.', { type: 'string' }),
};
const retryAfter = header('Seconds to wait before sending the command again.', { type: 'integer', minimum: 1 });

/** A problem response listing its stable codes, one example per code. */
const problemResponse = (codes: readonly Code[]) => {
  const response: Record<string, unknown> = {
    description: codes.map((c) => `\`${c}\``).join(', '),
    content: {
      'application/problem+json': {
        schema: ref('Problem'),
        examples: Object.fromEntries(
          codes.map((code) => [code, { summary: problemCodes[code][1], value: problemExample(code) }]),
        ),
      },
    },
  };
  if (codes.includes('RATE_LIMITED')) response.headers = { 'Retry-After': retryAfter, ...rateLimitHeaders };
  return response;
};

// ---------------------------------------------------------------------------------------------
// Operations

type Tag = 'queue' | 'challenges' | 'operations' | 'events';
const tags: { name: Tag; description: string }[] = [
  {
    name: 'queue',
    description:
      'Join a pool (time control + mode) and get paired by rating inside a window that widens while you wait.',
  },
  {
    name: 'challenges',
    description: 'Direct challenges between two players: issue, accept (the game is created), decline, cancel.',
  },
  { name: 'operations', description: 'Operator views (roles of ADMIN_ROLES).' },
  {
    name: 'events',
    description: "The event log for other services (service tokens): pages and Server-Sent Events, the tenant's only.",
  },
];

interface Input {
  name: string;
  in: 'query' | 'header';
  description: string;
  schema: Record<string, unknown>;
  example?: unknown;
}

interface Operation {
  operationId: string;
  tag: Tag;
  summary: string;
  description?: string;
  request?: { schema: Component; example: unknown; required: boolean };
  ok: {
    status: 200 | 201;
    schema: Component;
    description: string;
    examples: Record<string, { summary: string; value: unknown }>;
    /** @defaultValue 'application/json' */
    media?: string;
  };
  /** Stable codes besides the ones every operation (401, 503) or every command has. */
  errors: Code[];
  /** Changes state: `Idempotency-Key`, rate limits (429 `RATE_LIMITED`), JSON body rules. */
  command?: boolean;
  inputs?: Input[];
}

const feedFilters: Input[] = [
  {
    name: 'types',
    in: 'query',
    description: 'Comma-separated event types (e.g. MatchCreated,GameCreated). Unknown type: 400.',
    schema: { type: 'string' },
    example: 'MatchCreated,GameCreated',
  },
  {
    name: 'categories',
    in: 'query',
    description: 'Comma-separated stream categories: player, match, challenge, pool. Unknown: 400.',
    schema: { type: 'string' },
    example: 'match',
  },
];
const feedAfter: Input = {
  name: 'after',
  in: 'query',
  description: 'Exclusive cursor: a position the feed returned. Absent = from the start. Not a position: 400.',
  schema: { type: 'string', pattern: '^[0-9]+$' },
  example: '8540586400',
};
const listInputs: Input[] = [
  {
    name: 'limit',
    in: 'query',
    description: 'Challenges per page, 1–100.',
    schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
  },
  {
    name: 'cursor',
    in: 'query',
    description: '`next_cursor` of the previous page.',
    schema: { type: 'string' },
  },
];
const one = (name: string, summary: string, value: unknown) => ({ [name]: { summary, value } });
const challengeList = {
  page: { summary: 'One pending challenge, last page', value: { items: [pendingChallenge], next_cursor: null } },
};

const operations: Record<string, Partial<Record<'get' | 'post' | 'delete', Operation>>> = {
  '/v1/matchmaking/queue': {
    post: {
      operationId: 'joinQueue',
      tag: 'queue',
      summary: 'Join the queue of a pool',
      description:
        'One searching entry per player. The answer has the entry, its rating window, its place in the pool and ' +
        'the estimated wait; `Location` points to the entry. The pairing worker matches within milliseconds ' +
        'once a compatible opponent searches.',
      request: {
        schema: 'JoinQueueRequest',
        required: true,
        example: { time_control: '3+0', mode: 'rated', rating_range: { min: 1400 } },
      },
      ok: {
        status: 201,
        schema: 'QueueEntryResponse',
        description: 'The new searching entry.',
        examples: one('searching', 'Searching in 3+0 rated', searchingEntry),
      },
      errors: ['VALIDATION_FAILED', 'UNKNOWN_POOL', 'ALREADY_IN_QUEUE', 'ACTIVE_GAME_EXISTS'],
      command: true,
    },
  },
  '/v1/matchmaking/queue/{queue_entry_id}': {
    get: {
      operationId: 'getQueueEntry',
      tag: 'queue',
      summary: 'Status of a queue entry',
      description:
        "Status, time in queue, current window, position and estimated wait; once matched the match, the caller's " +
        'colour, the opponent and the game. Read from the read models, or from the player’s own events when ' +
        'they have not caught up yet (never 404 for your own fresh entry).',
      ok: {
        status: 200,
        schema: 'QueueEntryResponse',
        description: 'The entry.',
        examples: {
          searching: { summary: 'Still searching', value: searchingEntry },
          matched: { summary: 'Matched, game created', value: matchedEntry },
        },
      },
      errors: ['QUEUE_ENTRY_NOT_FOUND'],
    },
    delete: {
      operationId: 'cancelQueueEntry',
      tag: 'queue',
      summary: 'Cancel a searching entry',
      ok: {
        status: 200,
        schema: 'QueueEntryResponse',
        description: 'The cancelled entry.',
        examples: one('cancelled', 'Cancelled after 12 s', cancelledEntry),
      },
      errors: ['QUEUE_ENTRY_NOT_FOUND', 'CANNOT_CANCEL'],
      command: true,
    },
  },
  '/v1/matchmaking/active': {
    get: {
      operationId: 'getActiveMatchmaking',
      tag: 'queue',
      summary: "The caller's active entry and match",
      ok: {
        status: 200,
        schema: 'ActiveMatchmakingResponse',
        description: 'The searching entry or the live match; null when there is none.',
        examples: {
          searching: { summary: 'Searching', value: { queue_entry: searchingEntry, match: null } },
          matched: {
            summary: 'In a match',
            value: {
              queue_entry: matchedEntry,
              match: { match_id: MATCH, game_id: GAME, colour: 'white', opponent_id: 'bob', status: 'GAME_CREATED' },
            },
          },
        },
      },
      errors: [],
    },
  },
  '/v1/matchmaking/challenges': {
    post: {
      operationId: 'createChallenge',
      tag: 'challenges',
      summary: 'Challenge another player',
      description: 'The challenge expires after CHALLENGE_TTL_SECONDS unless the opponent answers.',
      request: {
        schema: 'CreateChallengeRequest',
        required: true,
        example: { opponent_id: 'bob', time_control: '5+3', mode: 'casual', color: 'random', message: 'rematch?' },
      },
      ok: {
        status: 201,
        schema: 'ChallengeResponse',
        description: 'The pending challenge.',
        examples: one('pending', 'Pending challenge to bob', pendingChallenge),
      },
      errors: ['VALIDATION_FAILED', 'UNKNOWN_POOL', 'CANNOT_CHALLENGE_SELF', 'TOO_MANY_PENDING_CHALLENGES'],
      command: true,
    },
  },
  '/v1/matchmaking/challenges/incoming': {
    get: {
      operationId: 'listIncomingChallenges',
      tag: 'challenges',
      summary: 'Pending challenges to the caller',
      inputs: listInputs,
      ok: {
        status: 200,
        schema: 'ChallengeListResponse',
        description: 'A page of challenges.',
        examples: challengeList,
      },
      errors: ['VALIDATION_FAILED', 'INVALID_CURSOR'],
    },
  },
  '/v1/matchmaking/challenges/outgoing': {
    get: {
      operationId: 'listOutgoingChallenges',
      tag: 'challenges',
      summary: 'Pending challenges from the caller',
      inputs: listInputs,
      ok: {
        status: 200,
        schema: 'ChallengeListResponse',
        description: 'A page of challenges.',
        examples: challengeList,
      },
      errors: ['VALIDATION_FAILED', 'INVALID_CURSOR'],
    },
  },
  '/v1/matchmaking/challenges/{challenge_id}': {
    get: {
      operationId: 'getChallenge',
      tag: 'challenges',
      summary: 'A challenge, for either party',
      ok: {
        status: 200,
        schema: 'ChallengeResponse',
        description: 'The challenge.',
        examples: one('pending', 'Pending challenge', pendingChallenge),
      },
      errors: ['CHALLENGE_NOT_FOUND'],
    },
  },
  '/v1/matchmaking/challenges/{challenge_id}/accept': {
    post: {
      operationId: 'acceptChallenge',
      tag: 'challenges',
      summary: 'Accept (opponent only); the game is created',
      ok: {
        status: 200,
        schema: 'ChallengeResponse',
        description: 'The accepted challenge with its match; `game_id` once live-game-api made the game.',
        examples: one('accepted', 'Accepted', {
          ...pendingChallenge,
          status: 'ACCEPTED',
          match_id: MATCH,
          game_id: null,
        }),
      },
      errors: [
        'NOT_ALLOWED',
        'CHALLENGE_NOT_FOUND',
        'INVALID_CHALLENGE_STATE',
        'CANNOT_ACCEPT_CHALLENGE',
        'ACTIVE_GAME_EXISTS',
      ],
      command: true,
    },
  },
  '/v1/matchmaking/challenges/{challenge_id}/decline': {
    post: {
      operationId: 'declineChallenge',
      tag: 'challenges',
      summary: 'Decline (opponent only) with a reason',
      request: { schema: 'DeclineChallengeRequest', required: false, example: { reason: 'later' } },
      ok: {
        status: 200,
        schema: 'ChallengeResponse',
        description: 'The declined challenge.',
        examples: one('declined', 'Declined', { ...pendingChallenge, status: 'DECLINED', decline_reason: 'later' }),
      },
      errors: ['VALIDATION_FAILED', 'NOT_ALLOWED', 'CHALLENGE_NOT_FOUND', 'INVALID_CHALLENGE_STATE'],
      command: true,
    },
  },
  '/v1/matchmaking/challenges/{challenge_id}/cancel': {
    post: {
      operationId: 'cancelChallenge',
      tag: 'challenges',
      summary: 'Cancel (challenger only)',
      ok: {
        status: 200,
        schema: 'ChallengeResponse',
        description: 'The cancelled challenge.',
        examples: one('cancelled', 'Cancelled', { ...pendingChallenge, status: 'CANCELLED' }),
      },
      errors: ['VALIDATION_FAILED', 'NOT_ALLOWED', 'CHALLENGE_NOT_FOUND', 'INVALID_CHALLENGE_STATE'],
      command: true,
    },
  },
  '/internal/queues/summary': {
    get: {
      operationId: 'getQueueSummary',
      tag: 'operations',
      summary: 'Per pool: searching, waits, matches in the last minute (role admin/service)',
      ok: {
        status: 200,
        schema: 'QueueSummaryResponse',
        description: "The tenant's pools with searching players or recent matches.",
        examples: one('summary', 'Summary', {
          generated_at: '2026-12-01T12:00:00.000Z',
          pools: [
            {
              pool: { key: '3+0:rated', time_control: '3+0', mode: 'rated' },
              searching: 14,
              avg_wait_seconds: 3.1,
              p95_wait_seconds: 9.8,
              matches_last_minute: 52,
            },
          ],
        }),
      },
      errors: ['FORBIDDEN'],
    },
  },
  '/v1/events': {
    get: {
      operationId: 'listEvents',
      tag: 'events',
      summary: "A page of the tenant's events in global order (service tokens; platform roles: every tenant)",
      description:
        'At least once, in order, no gaps: events committed late by concurrent transactions are never skipped.',
      inputs: [
        feedAfter,
        ...feedFilters,
        {
          name: 'limit',
          in: 'query',
          description: 'Events per page, 1–1000.',
          schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
      ],
      ok: {
        status: 200,
        schema: 'EventFeedPage',
        description: 'A page of events; `next` is the cursor of the next page.',
        examples: one('page', 'Page of one event', { events: [feedEvent], next: feedEvent.position }),
      },
      errors: ['VALIDATION_FAILED', 'FORBIDDEN'],
    },
  },
  '/v1/events/stream': {
    get: {
      operationId: 'streamEvents',
      tag: 'events',
      summary: 'The same events live, as Server-Sent Events (`id:` = position, `data:` = one FeedEvent as JSON)',
      description:
        'History after the cursor, then live. Reconnect with `Last-Event-ID` (EventSource does it) to resume ' +
        'exactly after the last event received. Quiet streams get a `: heartbeat` comment line.',
      inputs: [
        feedAfter,
        ...feedFilters,
        {
          name: 'Last-Event-ID',
          in: 'header',
          description: 'The last `id:` received; wins over `after`.',
          schema: { type: 'string', pattern: '^[0-9]+$' },
          example: '8540586463',
        },
      ],
      ok: {
        status: 200,
        schema: 'FeedEvent',
        description: 'An endless `text/event-stream`; each `data:` line is one event (the schema).',
        media: 'text/event-stream',
        examples: one('event', 'One event', feedEvent),
      },
      errors: ['VALIDATION_FAILED', 'FORBIDDEN'],
    },
  },
};

/** What every command can also answer: body rules, the idempotency key, the rate limits. */
const COMMAND_ERRORS: Code[] = [
  'MALFORMED_JSON',
  'INVALID_IDEMPOTENCY_KEY',
  'IDEMPOTENCY_IN_PROGRESS',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'IDEMPOTENCY_KEY_REUSED',
  'RATE_LIMITED',
];
const AUTH_ERRORS: Code[] = [
  'MISSING_TOKEN',
  'INVALID_TOKEN',
  'TOKEN_EXPIRED',
  'TOKEN_NOT_ACTIVE',
  'MISSING_CLAIMS',
  // JWT_JWKS_URL could not be fetched for a key the token names (the token may be valid).
  'AUTH_UNAVAILABLE',
];

const parameters = (path: string, op: Operation) => [
  ...[...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    description: name === 'queue_entry_id' ? 'The id `POST /queue` returned.' : 'The id `POST /challenges` returned.',
    schema: { type: 'string', pattern: '^[\\w-]{1,100}$' },
    example: name === 'queue_entry_id' ? ALICE_ENTRY : CHALLENGE,
  })),
  ...(op.command
    ? [
        {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description: 'A retry with the same key returns the first response and changes nothing (24 h).',
          schema: { type: 'string', minLength: 1, maxLength: 255 },
          example: 'join-7c1e2a',
        },
      ]
    : []),
  ...(op.inputs ?? []),
];

/** Responses by status: the success, then one problem response per status with its codes. */
const responses = (op: Operation) => {
  const ok: Record<string, unknown> = {
    description: op.ok.description,
    content: { [op.ok.media ?? 'application/json']: { schema: ref(op.ok.schema), examples: op.ok.examples } },
  };
  if (op.command) {
    ok.headers = {
      ...(op.ok.status === 201 ? { Location: header('The new resource.', { type: 'string' }) } : {}),
      ...rateLimitHeaders,
    };
  }
  const codes = [
    ...AUTH_ERRORS,
    ...op.errors,
    ...(op.command ? COMMAND_ERRORS : []),
    'MATCHMAKING_UNAVAILABLE',
  ] as Code[];
  const byStatus = new Map<number, Code[]>();
  for (const code of codes) {
    const status = problemCodes[code][0];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return {
    [op.ok.status]: ok,
    ...Object.fromEntries(
      [...byStatus].sort(([a], [b]) => a - b).map(([status, list]) => [status, problemResponse(list)]),
    ),
  };
};

export interface OpenApiOptions {
  /** The `servers` URL (API_PUBLIC_URL). @defaultValue '/' — the server the document was fetched from */
  serverUrl?: string;
}

/** The OpenAPI 3.1 document of the API, served at `GET /openapi.json` (and linted by `pnpm lint:openapi`). */
export function openApiDocument(options: OpenApiOptions = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, methods] of Object.entries(operations)) {
    for (const [method, op] of Object.entries(methods)) {
      if (!op) continue;
      paths[path] ??= {};
      paths[path][method] = {
        operationId: op.operationId,
        tags: [op.tag],
        summary: op.summary,
        ...(op.description ? { description: op.description } : {}),
        parameters: parameters(path, op),
        ...(op.request
          ? {
              requestBody: {
                required: op.request.required,
                content: { 'application/json': { schema: ref(op.request.schema), example: op.request.example } },
              },
            }
          : {}),
        responses: responses(op),
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'matchmaking',
      version: '1.0.0',
      description:
        'Matchmaking for 1v1 rated and casual games: queues per pool, direct challenges, the event feed.\n\n' +
        'Every error is an RFC 9457 problem (`application/problem+json`) with a stable `code`. Commands accept ' +
        '`Idempotency-Key` and are rate limited per user and per tenant (429 `RATE_LIMITED` with `Retry-After`).',
      license: { name: 'UNLICENSED', identifier: 'LicenseRef-UNLICENSED' },
    },
    servers: [
      options.serverUrl
        ? { url: options.serverUrl, description: 'This deployment' }
        : { url: '/', description: 'The server this document was fetched from' },
    ],
    tags,
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A JWT with `sub` (the user) and `tenant_id`; `roles` for operator and service tokens.',
        },
      },
      schemas: Object.fromEntries(
        Object.entries(openApiSchemas).map(([name, schema]) => [
          name,
          z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }),
        ]),
      ),
    },
  };
}

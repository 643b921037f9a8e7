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
const components = {
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

type Component = keyof typeof components;
const ref = (name: Component) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: Component) => ({ content: { 'application/json': { schema: ref(name) } } });
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

interface Operation {
  summary: string;
  request?: Component;
  ok: [status: number, body: Component];
  errors: Record<number, string>;
  idempotent?: boolean;
  /** Query and header parameters. */
  inputs?: { name: string; in: 'query' | 'header'; description: string; schema: Record<string, unknown> }[];
  /** The success body's media type. @defaultValue 'application/json' */
  media?: string;
  description?: string;
}

const feedFilters: NonNullable<Operation['inputs']> = [
  {
    name: 'types',
    in: 'query',
    description: 'Comma-separated event types (e.g. MatchCreated,GameCreated). Unknown type: 400.',
    schema: { type: 'string' },
  },
  {
    name: 'categories',
    in: 'query',
    description: 'Comma-separated stream categories: player, match, challenge, pool. Unknown: 400.',
    schema: { type: 'string' },
  },
];
const feedAfter = {
  name: 'after',
  in: 'query' as const,
  description: 'Exclusive cursor: a position the feed returned. Absent = from the start. Not a position: 400.',
  schema: { type: 'string', pattern: '^[0-9]+$' },
};
const feedAccess = {
  403: 'FORBIDDEN: not a service token (roles ADMIN_ROLES or EVENT_FEED_PLATFORM_ROLES)',
  400: 'VALIDATION_FAILED: bad cursor, unknown type or category, limit out of range',
  503: 'MATCHMAKING_UNAVAILABLE',
};

const common = { 401: 'Missing or invalid token (MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, …)' };
const operations: Record<string, Partial<Record<'get' | 'post' | 'delete', Operation>>> = {
  '/v1/matchmaking/queue': {
    post: {
      summary: 'Join the queue of a pool',
      request: 'JoinQueueRequest',
      ok: [201, 'QueueEntryResponse'],
      errors: {
        400: 'VALIDATION_FAILED, UNKNOWN_POOL, MALFORMED_JSON',
        409: 'ALREADY_IN_QUEUE, ACTIVE_GAME_EXISTS',
        503: 'MATCHMAKING_UNAVAILABLE',
      },
      idempotent: true,
    },
  },
  '/v1/matchmaking/queue/{queue_entry_id}': {
    get: {
      summary: 'Status of a queue entry',
      ok: [200, 'QueueEntryResponse'],
      errors: { 404: 'QUEUE_ENTRY_NOT_FOUND' },
    },
    delete: {
      summary: 'Cancel a searching entry',
      ok: [200, 'QueueEntryResponse'],
      errors: { 404: 'QUEUE_ENTRY_NOT_FOUND', 409: 'CANNOT_CANCEL' },
      idempotent: true,
    },
  },
  '/v1/matchmaking/active': {
    get: { summary: "The caller's active entry and match", ok: [200, 'ActiveMatchmakingResponse'], errors: {} },
  },
  '/v1/matchmaking/challenges': {
    post: {
      summary: 'Challenge another player',
      request: 'CreateChallengeRequest',
      ok: [201, 'ChallengeResponse'],
      errors: { 400: 'VALIDATION_FAILED, UNKNOWN_POOL, CANNOT_CHALLENGE_SELF', 429: 'TOO_MANY_PENDING_CHALLENGES' },
      idempotent: true,
    },
  },
  '/v1/matchmaking/challenges/incoming': {
    get: {
      summary: 'Pending challenges to the caller',
      ok: [200, 'ChallengeListResponse'],
      errors: { 400: 'INVALID_CURSOR' },
    },
  },
  '/v1/matchmaking/challenges/outgoing': {
    get: {
      summary: 'Pending challenges from the caller',
      ok: [200, 'ChallengeListResponse'],
      errors: { 400: 'INVALID_CURSOR' },
    },
  },
  '/v1/matchmaking/challenges/{challenge_id}': {
    get: {
      summary: 'A challenge, for either party',
      ok: [200, 'ChallengeResponse'],
      errors: { 404: 'CHALLENGE_NOT_FOUND' },
    },
  },
  '/v1/matchmaking/challenges/{challenge_id}/accept': {
    post: {
      summary: 'Accept (opponent only); the game is created',
      ok: [200, 'ChallengeResponse'],
      errors: {
        403: 'NOT_ALLOWED',
        404: 'CHALLENGE_NOT_FOUND',
        409: 'INVALID_CHALLENGE_STATE, CANNOT_ACCEPT_CHALLENGE, ACTIVE_GAME_EXISTS',
      },
      idempotent: true,
    },
  },
  '/v1/matchmaking/challenges/{challenge_id}/decline': {
    post: {
      summary: 'Decline (opponent only) with a reason',
      request: 'DeclineChallengeRequest',
      ok: [200, 'ChallengeResponse'],
      errors: { 403: 'NOT_ALLOWED', 404: 'CHALLENGE_NOT_FOUND', 409: 'INVALID_CHALLENGE_STATE' },
      idempotent: true,
    },
  },
  '/v1/matchmaking/challenges/{challenge_id}/cancel': {
    post: {
      summary: 'Cancel (challenger only)',
      ok: [200, 'ChallengeResponse'],
      errors: { 403: 'NOT_ALLOWED', 404: 'CHALLENGE_NOT_FOUND', 409: 'INVALID_CHALLENGE_STATE' },
      idempotent: true,
    },
  },
  '/internal/queues/summary': {
    get: {
      summary: 'Per pool: searching, waits, matches in the last minute (role admin/service)',
      ok: [200, 'QueueSummaryResponse'],
      errors: { 403: 'FORBIDDEN' },
    },
  },
  '/v1/events': {
    get: {
      summary: "A page of the tenant's events in global order (service tokens; platform roles: every tenant)",
      description:
        'At least once, in order, no gaps: events committed late by concurrent transactions are never skipped.',
      ok: [200, 'EventFeedPage'],
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
      errors: feedAccess,
    },
  },
  '/v1/events/stream': {
    get: {
      summary: 'The same events live, as Server-Sent Events (`id:` = position, `data:` = one FeedEvent as JSON)',
      description:
        'History after the cursor, then live. Reconnect with `Last-Event-ID` (EventSource does it) to resume ' +
        'exactly after the last event received. Quiet streams get a `: heartbeat` comment line.',
      ok: [200, 'FeedEvent'],
      media: 'text/event-stream',
      inputs: [
        feedAfter,
        ...feedFilters,
        {
          name: 'Last-Event-ID',
          in: 'header',
          description: 'The last `id:` received; wins over `after`.',
          schema: { type: 'string', pattern: '^[0-9]+$' },
        },
      ],
      errors: feedAccess,
    },
  },
};

const parameters = (path: string, idempotent: boolean | undefined, inputs: Operation['inputs'] = []) => [
  ...[...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  })),
  ...(idempotent
    ? [
        {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description: 'A retry with the same key returns the first response and changes nothing (24 h).',
          schema: { type: 'string', maxLength: 255 },
        },
      ]
    : []),
  ...inputs,
];

/** The OpenAPI 3.1 document of the API, served at `GET /openapi.json`. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, methods] of Object.entries(operations)) {
    for (const [method, op] of Object.entries(methods)) {
      if (!op) continue;
      paths[path] ??= {};
      paths[path][method] = {
        summary: op.summary,
        ...(op.description ? { description: op.description } : {}),
        parameters: parameters(path, op.idempotent, op.inputs),
        ...(op.request
          ? {
              requestBody: {
                required: method === 'post' && op.request !== 'DeclineChallengeRequest',
                ...json(op.request),
              },
            }
          : {}),
        responses: {
          [op.ok[0]]: {
            description: 'OK',
            ...(op.media ? { content: { [op.media]: { schema: ref(op.ok[1]) } } } : json(op.ok[1])),
          },
          ...Object.fromEntries(
            Object.entries({ ...common, ...op.errors }).map(([status, codes]) => [status, problem(codes)]),
          ),
        },
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'matchmaking',
      version: '1.0.0',
      description: 'Queue and challenge API; errors are RFC 9457 problems with a stable `code`.',
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: Object.fromEntries(
        Object.entries(components).map(([name, schema]) => [
          name,
          z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }),
        ]),
      ),
    },
  };
}

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
}

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
};

const parameters = (path: string, idempotent: boolean | undefined) => [
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
        parameters: parameters(path, op.idempotent),
        ...(op.request
          ? {
              requestBody: {
                required: method === 'post' && op.request !== 'DeclineChallengeRequest',
                ...json(op.request),
              },
            }
          : {}),
        responses: {
          [op.ok[0]]: { description: 'OK', ...json(op.ok[1]) },
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

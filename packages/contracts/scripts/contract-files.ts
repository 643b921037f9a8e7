/**
 * The published contract files, generated from the zod schemas: a JSON Schema (draft 2020-12)
 * per event type and schema version, the envelope schemas, and the AsyncAPI 3.0 document.
 * `pnpm contracts:generate` writes them; a test regenerates them in memory and compares.
 */
import { stringify } from 'yaml';
import { z } from 'zod';
import {
  CHALLENGE_CATEGORY,
  challengeEventTypes,
  EventEnvelope,
  EventFeedPage,
  EventMetadata,
  type EventType,
  eventSchemaOf,
  eventSchemas,
  MATCH_CATEGORY,
  matchEventTypes,
  PLAYER_CATEGORY,
  POOL_CATEGORY,
  playerEventTypes,
  poolEventTypes,
} from '../src/index.js';

/** The AsyncAPI payload format of every schema file. */
export const SCHEMA_FORMAT = 'application/schema+json;version=draft-2020-12';

/** The envelope-level schemas (not events), each `schemas/<name>.v1.json`. */
const envelopeSchemas = {
  EventMetadata: {
    schema: EventMetadata,
    description: 'Metadata every event carries (`metadata` of an envelope). Extra keys may appear.',
  },
  EventEnvelope: {
    schema: EventEnvelope,
    description:
      'One event as the HTTP feed publishes it: an element of a page of GET /v1/events and the `data:` line of an SSE frame of GET /v1/events/stream. `data` follows `schemas/<type>.v<schema_version>.json`.',
  },
  EventFeedPage: { schema: EventFeedPage, description: 'A page of GET /v1/events.' },
} as const;

const categories = [
  { name: PLAYER_CATEGORY, types: playerEventTypes as readonly EventType[] },
  { name: MATCH_CATEGORY, types: matchEventTypes as readonly EventType[] },
  { name: CHALLENGE_CATEGORY, types: challengeEventTypes as readonly EventType[] },
  { name: POOL_CATEGORY, types: poolEventTypes as readonly EventType[] },
];

export interface EventVersion {
  type: EventType;
  schemaVersion: number;
  schema: z.ZodType;
  /** `<Type>.v<N>`: the schema file's name without `.json` and the AsyncAPI message id. */
  id: string;
  /** Whether a newer version exists (writers no longer write this one). */
  superseded: boolean;
}

/** Every version of every registered event type, in registry order. */
export function eventVersions(): EventVersion[] {
  return (Object.keys(eventSchemas) as EventType[]).flatMap((type) => {
    const current = eventSchemas[type].schemaVersion;
    return Array.from({ length: current }, (_, index) => {
      const schemaVersion = index + 1;
      const schema = eventSchemaOf(type, schemaVersion);
      if (!schema)
        throw new Error(
          `${type} v${schemaVersion} has no schema: keep every earlier version in previousSchemas (src/events/registry.ts)`,
        );
      return { type, schemaVersion, schema, id: `${type}.v${schemaVersion}`, superseded: schemaVersion < current };
    });
  });
}

const descriptionOf = (schema: z.ZodType): string | undefined => z.globalRegistry.get(schema)?.description;

/**
 * JSON Schema of what a writer may send: `io: 'input'` leaves `additionalProperties` open
 * (readers are tolerant, so an added optional field does not break an older consumer).
 * Cross-field rules (a pool key matching its parts, two different players, …) are not
 * expressible here; the descriptions name them and `parseEvent` checks them.
 */
function jsonSchema(schema: z.ZodType, title: string, description: string | undefined): Record<string, unknown> {
  const { $schema, description: _own, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' });
  return { $schema, title, ...(description ? { description } : {}), ...rest };
}

const eventDescription = ({ type, schemaVersion, schema, superseded }: EventVersion): string => {
  const category = categories.find((c) => c.types.includes(type))?.name;
  return [
    descriptionOf(schema) ?? `The ${type} event.`,
    `Data of \`${type}\` schema version ${schemaVersion}${category ? ` (stream category \`${category}\`)` : ''}.`,
    superseded
      ? `Superseded by v${eventSchemas[type].schemaVersion}: no longer written, still found in the log; @mm/contracts' parseEvent upcasts it.`
      : '',
  ]
    .filter(Boolean)
    .join(' ');
};

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** Every generated file: path relative to the package → content. */
export function contractFiles(version: string): Map<string, string> {
  const files = new Map<string, string>();
  const versions = eventVersions();
  for (const event of versions)
    files.set(
      `schemas/${event.id}.json`,
      json(jsonSchema(event.schema, `${event.type} v${event.schemaVersion}`, eventDescription(event))),
    );
  for (const [name, { schema, description }] of Object.entries(envelopeSchemas))
    files.set(`schemas/${name}.v1.json`, json(jsonSchema(schema, name, description)));
  files.set('asyncapi.yaml', asyncApi(version, versions));
  return files;
}

const ref = ($ref: string) => ({ $ref });

function asyncApi(version: string, versions: EventVersion[]): string {
  const messageRefs = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, ref(`#/components/messages/${id}`)]));
  const idsOf = (types: readonly EventType[]) => versions.filter((v) => types.includes(v.type)).map((v) => v.id);
  const allIds = versions.map((v) => v.id);

  const filterQuery = {
    types: {
      type: 'string',
      description: `Comma-separated event types to include (unknown names are a 400): ${Object.keys(eventSchemas).join(', ')}.`,
    },
    categories: {
      type: 'string',
      description: `Comma-separated stream categories to include: ${categories.map((c) => c.name).join(', ')}.`,
    },
  };
  const after = {
    type: 'string',
    pattern: '^\\d{1,16}$',
    description: 'Exclusive cursor: only events with a higher position. Absent or empty = from the start.',
  };

  const streamChannels = Object.fromEntries(
    categories.map(({ name, types }) => {
      const parameters: Record<string, { description: string }> =
        name === PLAYER_CATEGORY
          ? {
              tenantId: { description: 'The tenant id, URI-encoded.' },
              userId: { description: 'The user id, URI-encoded.' },
            }
          : name === POOL_CATEGORY
            ? {
                tenantId: { description: 'The tenant id, URI-encoded.' },
                poolKey: { description: 'The pool key (`<timeControl>:<mode>`), URI-encoded.' },
              }
            : { [`${name}Id`]: { description: `The ${name} id (a UUID).` } };
      const address =
        name === PLAYER_CATEGORY
          ? `${name}-{tenantId}:{userId}`
          : name === POOL_CATEGORY
            ? `${name}-{tenantId}:{poolKey}`
            : `${name}-{${name}Id}`;
      return [
        `${name}Streams`,
        {
          address,
          title: `${name} streams`,
          description: `Every \`${name}-…\` stream of the log (the category \`${name}\`; EventStoreDB's \`$ce-${name}\`). Only our services write here; others follow these events through the HTTP feed with \`categories=${name}\`.`,
          servers: [ref('#/servers/eventStore')],
          parameters,
          messages: messageRefs(idsOf(types)),
        },
      ];
    }),
  );

  const document = {
    asyncapi: '3.0.0',
    info: {
      title: 'Matchmaking events',
      version,
      description: [
        'Every event the matchmaking service appends to its log, and the HTTP event feed other services follow them with.',
        '',
        'Each message is one event as the feed publishes it (`schemas/EventEnvelope.v1.json`); its `data` follows `schemas/<type>.v<schema_version>.json`. Superseded schema versions stay listed: old events are never rewritten, so a consumer reading from the start sees them. Schemas are tolerant readers: ignore fields you do not know, skip event types you do not know.',
        '',
        'Generated from the zod schemas of `@mm/contracts` (`pnpm contracts:generate`); do not edit by hand.',
      ].join('\n'),
    },
    defaultContentType: 'application/json',
    servers: {
      api: {
        host: '127.0.0.1:8003',
        protocol: 'http',
        pathname: '/v1',
        title: 'Matchmaking API',
        description:
          'The HTTP API (`pnpm start` locally). The event feed needs a service token: roles `service`/`admin` read their own tenant, platform roles (EVENT_FEED_PLATFORM_ROLES) every tenant.',
        security: [ref('#/components/securitySchemes/serviceToken')],
      },
      eventStore: {
        host: 'eventstore:2113',
        protocol: 'esdb',
        title: 'Event log',
        description:
          'The log itself: EventStoreDB in production (`EVENT_STORE_URL`), PostgreSQL locally. Internal; described for the services that run inside the deployment.',
      },
    },
    channels: {
      eventPages: {
        address: '/events',
        title: 'Event pages',
        description:
          "GET /v1/events?after=<position>&types=&categories=&limit= — the log in global order, one page at a time (at least once, no gaps). Pass the page's `next` as `after` for the next page; `next` is null when the page is empty (caught up).",
        servers: [ref('#/servers/api')],
        messages: { EventFeedPage: ref('#/components/messages/EventFeedPage') },
      },
      eventStream: {
        address: '/events/stream',
        title: 'Event stream (Server-Sent Events)',
        description:
          'GET /v1/events/stream?after=<position>&types=&categories= — `text/event-stream`: history after `after`, then live events. Each frame is `id: <position>` and `data: <one event as JSON>`; comment lines are heartbeats. A reconnecting client sends `Last-Event-ID` (the last `id:` it got), which wins over `after`; delivery is at least once, so dedupe by position.',
        servers: [ref('#/servers/api')],
        messages: messageRefs(allIds),
      },
      ...streamChannels,
    },
    operations: {
      readEventPages: {
        action: 'send',
        channel: ref('#/channels/eventPages'),
        title: 'Pages of the log',
        summary: 'Answers GET /v1/events with a page of events.',
        bindings: {
          http: {
            method: 'GET',
            query: {
              type: 'object',
              properties: {
                after,
                ...filterQuery,
                limit: { type: 'string', pattern: '^\\d{1,5}$', description: 'Page size, 1–1000 (default 100).' },
              },
            },
            bindingVersion: '0.3.0',
          },
        },
        messages: [ref('#/channels/eventPages/messages/EventFeedPage')],
      },
      streamEvents: {
        action: 'send',
        channel: ref('#/channels/eventStream'),
        title: 'Follow the log',
        summary: 'Streams events as Server-Sent Events, resumable with Last-Event-ID.',
        bindings: {
          http: {
            method: 'GET',
            query: { type: 'object', properties: { after, ...filterQuery } },
            bindingVersion: '0.3.0',
          },
        },
        messages: allIds.map((id) => ref(`#/channels/eventStream/messages/${id}`)),
      },
      ...Object.fromEntries(
        categories.map(({ name, types }) => [
          `append${name[0]!.toUpperCase()}${name.slice(1)}Events`,
          {
            action: 'send',
            channel: ref(`#/channels/${name}Streams`),
            title: `Append to ${name} streams`,
            messages: idsOf(types).map((id) => ref(`#/channels/${name}Streams/messages/${id}`)),
          },
        ]),
      ),
    },
    components: {
      securitySchemes: {
        serviceToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A JWT with `sub`, `tenant_id` and a service role.',
        },
      },
      correlationIds: {
        correlationId: {
          description: 'The request or flow the event belongs to.',
          location: '$message.payload#/metadata/correlationId',
        },
      },
      messages: {
        EventFeedPage: {
          name: 'EventFeedPage',
          title: 'A page of events',
          contentType: 'application/json',
          payload: { schemaFormat: SCHEMA_FORMAT, schema: ref('./schemas/EventFeedPage.v1.json') },
        },
        ...Object.fromEntries(versions.map((event) => [event.id, eventMessage(event)])),
      },
    },
  };
  return `# Generated by \`pnpm contracts:generate\` from packages/contracts/src; do not edit.\n${stringify(document, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

function eventMessage(event: EventVersion) {
  return {
    name: event.type,
    title: `${event.type} v${event.schemaVersion}`,
    summary: descriptionOf(event.schema) ?? `The ${event.type} event.`,
    ...(event.superseded
      ? {
          description: `Superseded by v${eventSchemas[event.type].schemaVersion}: no longer written, still found in the log.`,
        }
      : {}),
    contentType: 'application/json',
    correlationId: ref('#/components/correlationIds/correlationId'),
    payload: {
      schemaFormat: SCHEMA_FORMAT,
      schema: {
        allOf: [
          ref('./schemas/EventEnvelope.v1.json'),
          {
            type: 'object',
            properties: {
              type: { const: event.type },
              schema_version: { const: event.schemaVersion },
              data: ref(`./schemas/${event.id}.json`),
            },
          },
        ],
      },
    },
  };
}

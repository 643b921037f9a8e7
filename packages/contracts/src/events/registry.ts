import type { z } from 'zod';
import {
  ChallengeAcceptedData,
  ChallengeCancelledData,
  ChallengeDeclinedData,
  ChallengeExpiredData,
  ChallengeIssuedData,
  ChallengeIssuedDataV1,
  upcastChallengeIssuedV1,
} from './challenge-events.js';
import { GameCreatedData, MatchAbortedData, MatchCreatedData } from './match-events.js';
import {
  ChallengeMatchClaimedData,
  ChallengeMatchReleasedData,
  ChallengeSentData,
  ChallengeSettledData,
  QueueCancelledData,
  QueueEntryGameStartedData,
  QueueEntryMatchedData,
  QueueEntryReleasedData,
  QueueJoinedData,
  QueueTimedOutData,
} from './player-events.js';
import { PairingPassCompletedData } from './pool-events.js';
import { compileCheck, type StoredCheck } from './stored-check.js';

/**
 * Every published event: its stable type name → current schema version and schema.
 * Changing a schema incompatibly means bumping `schemaVersion`, keeping the old schema in
 * {@link previousSchemas} and adding an upcaster from the old version in {@link upcasters}
 * (README "Compatibility rules").
 */
export const eventSchemas = {
  // player stream
  QueueJoined: { schemaVersion: 1, schema: QueueJoinedData },
  QueueCancelled: { schemaVersion: 1, schema: QueueCancelledData },
  QueueTimedOut: { schemaVersion: 1, schema: QueueTimedOutData },
  QueueEntryMatched: { schemaVersion: 1, schema: QueueEntryMatchedData },
  QueueEntryReleased: { schemaVersion: 1, schema: QueueEntryReleasedData },
  QueueEntryGameStarted: { schemaVersion: 1, schema: QueueEntryGameStartedData },
  ChallengeSent: { schemaVersion: 1, schema: ChallengeSentData },
  ChallengeSettled: { schemaVersion: 1, schema: ChallengeSettledData },
  ChallengeMatchClaimed: { schemaVersion: 1, schema: ChallengeMatchClaimedData },
  ChallengeMatchReleased: { schemaVersion: 1, schema: ChallengeMatchReleasedData },
  // match stream
  MatchCreated: { schemaVersion: 1, schema: MatchCreatedData },
  GameCreated: { schemaVersion: 1, schema: GameCreatedData },
  MatchAborted: { schemaVersion: 1, schema: MatchAbortedData },
  // challenge stream
  ChallengeIssued: { schemaVersion: 2, schema: ChallengeIssuedData },
  ChallengeAccepted: { schemaVersion: 1, schema: ChallengeAcceptedData },
  ChallengeDeclined: { schemaVersion: 1, schema: ChallengeDeclinedData },
  ChallengeCancelled: { schemaVersion: 1, schema: ChallengeCancelledData },
  ChallengeExpired: { schemaVersion: 1, schema: ChallengeExpiredData },
  // pool stream
  PairingPassCompleted: { schemaVersion: 1, schema: PairingPassCompletedData },
} as const satisfies Record<string, { schemaVersion: number; schema: z.ZodType }>;

export type EventType = keyof typeof eventSchemas;

/** `{ type, data }` of one event type. */
export type EventOf<T extends EventType> = { type: T; data: z.infer<(typeof eventSchemas)[T]['schema']> };

/** Discriminated union of every event we publish. */
export type MatchmakingEvent = EventUnion<EventType>;

export const playerEventTypes = [
  'QueueJoined',
  'QueueCancelled',
  'QueueTimedOut',
  'QueueEntryMatched',
  'QueueEntryReleased',
  'QueueEntryGameStarted',
  'ChallengeSent',
  'ChallengeSettled',
  'ChallengeMatchClaimed',
  'ChallengeMatchReleased',
] as const satisfies readonly EventType[];
export const matchEventTypes = ['MatchCreated', 'GameCreated', 'MatchAborted'] as const satisfies readonly EventType[];
export const challengeEventTypes = [
  'ChallengeIssued',
  'ChallengeAccepted',
  'ChallengeDeclined',
  'ChallengeCancelled',
  'ChallengeExpired',
] as const satisfies readonly EventType[];
export const poolEventTypes = ['PairingPassCompleted'] as const satisfies readonly EventType[];

// Mapped then indexed, so each union member keeps its own `type`/`data` pairing.
type EventUnion<T extends EventType> = { [K in T]: EventOf<K> }[T];
export type PlayerEvent = EventUnion<(typeof playerEventTypes)[number]>;
export type MatchEvent = EventUnion<(typeof matchEventTypes)[number]>;
export type ChallengeEvent = EventUnion<(typeof challengeEventTypes)[number]>;
export type PoolEvent = EventUnion<(typeof poolEventTypes)[number]>;

/**
 * The schemas of earlier versions, still found in the log: `previousSchemas[type][v]` for every
 * `v` below the current version. `parseEvent` validates old data with them before upcasting,
 * and the generated JSON Schemas (`schemas/<Type>.v<N>.json`) include them.
 */
export const previousSchemas: Partial<Record<EventType, Record<number, z.ZodType>>> = {
  ChallengeIssued: { 1: ChallengeIssuedDataV1 },
};

/**
 * Upcasters: `upcasters[type][v]` turns version-`v` data (already validated by its schema)
 * into version `v + 1` data; `parseEvent` applies the chain.
 */
export const upcasters: Partial<Record<EventType, Record<number, (data: unknown) => unknown>>> = {
  ChallengeIssued: { 1: (data) => upcastChallengeIssuedV1(data as ChallengeIssuedDataV1) },
};

/** The schema of one version of an event type (current or previous); `undefined` if there is none. */
export const eventSchemaOf = (type: EventType, schemaVersion: number): z.ZodType | undefined =>
  schemaVersion === eventSchemas[type].schemaVersion
    ? eventSchemas[type].schema
    : previousSchemas[type]?.[schemaVersion];

export const isEventType = (type: string): type is EventType => Object.hasOwn(eventSchemas, type);

/** Why an event could not be read. Stable codes: `UNKNOWN_EVENT_TYPE`, `UNSUPPORTED_SCHEMA_VERSION`, `INVALID_EVENT_DATA`. */
export class EventContractError extends Error {
  constructor(
    readonly code: 'UNKNOWN_EVENT_TYPE' | 'UNSUPPORTED_SCHEMA_VERSION' | 'INVALID_EVENT_DATA',
    message: string,
    readonly issues: readonly z.core.$ZodIssue[] = [],
  ) {
    super(message);
    this.name = 'EventContractError';
  }
}

/**
 * Validates stored/received event data and upcasts it to the current schema version.
 * Throws {@link EventContractError}. Consumers that want to skip events they do not
 * know should check {@link isEventType} first.
 */
// `EventUnion<T>`, not `EventOf<T>`: for a union `T` (a type narrowed by `isEventType`) the result stays a discriminated union.
export function parseEvent<T extends EventType>(type: T, schemaVersion: number, data: unknown): EventUnion<T>;
export function parseEvent(type: string, schemaVersion: number, data: unknown): MatchmakingEvent;
export function parseEvent(type: string, schemaVersion: number, data: unknown): MatchmakingEvent {
  if (!isEventType(type)) throw new EventContractError('UNKNOWN_EVENT_TYPE', `unknown event type "${type}"`);
  const { schemaVersion: current, schema } = eventSchemas[type];
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > current)
    throw new EventContractError(
      'UNSUPPORTED_SCHEMA_VERSION',
      `${type} v${schemaVersion} is not supported (current v${current})`,
    );
  let upcast = data;
  for (let version = schemaVersion; version < current; version++) {
    const step = upcasters[type]?.[version];
    if (!step)
      throw new EventContractError(
        'UNSUPPORTED_SCHEMA_VERSION',
        `no upcaster for ${type} v${version} → v${version + 1}`,
      );
    const old = previousSchemas[type]?.[version]?.safeParse(upcast);
    if (old && !old.success) throw invalid(type, version, old.error);
    upcast = step(old ? old.data : upcast);
  }
  const parsed = schema.safeParse(upcast);
  if (!parsed.success) throw invalid(type, schemaVersion, parsed.error);
  return { type, data: parsed.data } as MatchmakingEvent;
}

const invalid = (type: string, schemaVersion: number, error: z.ZodError) =>
  new EventContractError(
    'INVALID_EVENT_DATA',
    `invalid ${type} v${schemaVersion} data: ${error.message}`,
    error.issues,
  );

const storedChecks = new Map<EventType, StoredCheck | null>();

/**
 * True when `data` is data of the current version of `type` that its schema accepts — checked by
 * the schema compiled into a plain predicate (`stored-check.ts`: what zod accepts, without a zod
 * run per value). False says only "not known valid this way": hand the event to
 * {@link parseEvent} (older versions to upcast, invalid data to name, schemas the compiler does
 * not know).
 */
export function isStoredEventData(type: EventType, schemaVersion: number, data: unknown): boolean {
  if (schemaVersion !== eventSchemas[type].schemaVersion) return false;
  let check = storedChecks.get(type);
  if (check === undefined) {
    check = compileCheck(eventSchemas[type].schema);
    storedChecks.set(type, check);
  }
  return check?.(data) ?? false;
}

/**
 * {@link parseEvent} for events read back from the log, which were parsed when written: data of
 * the current version that {@link isStoredEventData} accepts is returned **as stored** — not
 * copied, so keys zod would strip stay and keys keep their stored order; read the fields by
 * name. Everything else goes through {@link parseEvent}: the same {@link EventContractError}
 * for invalid data.
 */
export function parseStoredEvent(type: string, schemaVersion: number, data: unknown): MatchmakingEvent {
  if (isEventType(type) && isStoredEventData(type, schemaVersion, data)) return { type, data } as MatchmakingEvent;
  return parseEvent(type, schemaVersion, data);
}

import { eventSchemas, type MatchCreatedData, type PlayerEvent, playerStream } from '@mm/contracts';
import { type ClaimQueueEntry, loadState, type PlayerState, playerDecider } from '@mm/domain';
import type { Json } from '@mm/event-store';
import { serviceMetadata, type WorkerContext } from '../context.js';
import { matchEventId } from '../ids/deterministic-ids.js';

export type ClaimResult = { ok: true } | { ok: false; code: string };

const isWrongExpectedRevision = (error: unknown): boolean =>
  (error as { code?: unknown } | null)?.code === 'WRONG_EXPECTED_REVISION';

export interface ClaimInput {
  tenantId: string;
  userId: string;
  queueEntryId: string;
  decision: MatchCreatedData;
  opponent: { userId: string; queueEntryId: string | null; rating: number };
  /**
   * Claim only if the player's stream is still at this revision (the one the match id was
   * derived from); null = whatever the revision, as long as the entry is searching.
   */
  atRevision: number | null;
  /** The player's stream as the caller just read it, used for the first attempt (saves a read). */
  loaded?: Awaited<ReturnType<typeof loadState<PlayerState, PlayerEvent>>>;
}

/**
 * `ClaimQueueEntry` on the player's stream, optionally pinned to the revision the pair was
 * decided at. A claim by the same match is a success (a retry, or a concurrent pass with the
 * same decision). Pinning makes "the match could not claim this entry" permanent: once the
 * stream has moved past that revision (cancel, timeout, another match), no claim for this
 * match id can ever succeed on it — so releasing the other side is final (see commitPair).
 */
export async function claimEntry(ctx: WorkerContext, input: ClaimInput): Promise<ClaimResult> {
  const { tenantId, userId, decision } = input;
  const streamName = playerStream(tenantId, userId);
  const command: ClaimQueueEntry = {
    type: 'ClaimQueueEntry',
    userId,
    queueEntryId: input.queueEntryId,
    matchId: decision.matchId,
    opponent: input.opponent,
    now: new Date(ctx.now()).toISOString(),
    decision,
  };
  for (let attempt = 1; attempt <= 3; attempt++) {
    const { state, revision } =
      attempt === 1 && input.loaded ? input.loaded : await loadState(ctx.store, streamName, playerDecider);
    const decided = playerDecider.decide(command, state);
    if (!decided.ok) return { ok: false, code: decided.error.code };
    if (decided.events.length === 0) return { ok: true }; // already claimed by this match
    const current = revision === 'no_stream' ? -1 : revision;
    if (input.atRevision !== null && current !== input.atRevision) return { ok: false, code: 'STREAM_MOVED' };
    const event = decided.events[0]!;
    const { schemaVersion, schema } = eventSchemas[event.type];
    try {
      await ctx.store.appendToStream(
        streamName,
        [
          {
            id: matchEventId(decision.matchId, 'claimed', input.queueEntryId),
            type: event.type,
            schemaVersion,
            data: schema.parse(event.data) as Json,
            metadata: serviceMetadata(tenantId, decision.matchId),
          },
        ],
        { expectedRevision: revision === 'no_stream' ? 'no_stream' : revision },
      );
      return { ok: true };
    } catch (error) {
      // Lost a race on the stream: look again (it may be our own match's claim, or a cancel).
      if (!isWrongExpectedRevision(error)) throw error;
    }
  }
  return { ok: false, code: 'STREAM_MOVED' };
}

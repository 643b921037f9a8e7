import { matchStream, playerStream } from '@mm/contracts';
import type { EventStore, RecordedEvent } from '@mm/event-store';
import { ReplayInputError } from './errors.js';

/** One line of a player's history. */
export interface HistoryLine {
  position: number;
  at: string;
  stream: string;
  type: string;
  /** The event in words. */
  text: string;
}

export interface PlayerHistory {
  tenantId: string;
  userId: string;
  /** The player's own events and those of every match they were in, in log order. */
  lines: HistoryLine[];
}

// biome-ignore lint/suspicious/noExplicitAny: history reads old and new event versions alike
type Raw = any;

const pool = (p: Raw) => (p?.timeControl ? `${p.timeControl} ${p.mode}` : String(p?.key ?? '?'));
const secs = (ms: unknown) => (typeof ms === 'number' ? `${Math.round(ms / 1000)} s` : '?');

/** An event of a player's history in words, from the point of view of `userId`. */
export function describeEvent(event: RecordedEvent, userId: string): string {
  const d: Raw = event.data ?? {};
  switch (event.type) {
    case 'QueueJoined':
      return `joined ${pool(d.pool)} with rating ${d.rating} (${d.ratingSource})${d.ratingRange ? ` range ${JSON.stringify(d.ratingRange)}` : ''} — entry ${d.queueEntryId}`;
    case 'QueueCancelled':
      return `entry ${d.queueEntryId} cancelled (${d.reason})`;
    case 'QueueTimedOut':
      return `entry ${d.queueEntryId} timed out after ${secs(d.waitedMs)}`;
    case 'QueueEntryMatched':
      return `entry ${d.queueEntryId} claimed for match ${d.matchId} against ${d.opponent?.userId} (rating ${d.opponent?.rating})`;
    case 'QueueEntryReleased':
      return `entry ${d.queueEntryId} released from match ${d.matchId} (${d.reason}); searching again with its original join time`;
    case 'QueueEntryGameStarted':
      return `game ${d.gameId} of match ${d.matchId} started, playing ${d.colour}`;
    case 'ChallengeSent':
      return `challenged ${d.opponentId} to ${d.timeControl} ${d.mode} (challenge ${d.challengeId})`;
    case 'ChallengeSettled':
      return `challenge ${d.challengeId} no longer pending (${d.outcome ?? d.reason ?? 'settled'})`;
    case 'ChallengeMatchClaimed':
      return `claimed for challenge match ${d.matchId} against ${d.opponentId} as ${d.role}${d.heldQueueEntryId ? ` (entry ${d.heldQueueEntryId} held)` : ''}`;
    case 'ChallengeMatchReleased':
      return `released from challenge match ${d.matchId}`;
    case 'MatchCreated': {
      const me = d.white?.userId === userId ? d.white : d.black;
      const other = d.white?.userId === userId ? d.black : d.white;
      const colour = d.white?.userId === userId ? 'white' : 'black';
      return `match ${d.matchId} created (${d.source}, ${pool(d.pool)}): ${colour} vs ${other?.userId} (${other?.rating}); own rating ${me?.rating}, window ${me?.window ? `[${me.window.low}, ${me.window.high}]` : 'none'}, waited ${secs(me?.waitMs)}; ${d.colourReason ?? ''}`.trim();
    }
    case 'GameCreated':
      return `match ${d.matchId} got game ${d.gameId}`;
    case 'MatchAborted':
      return `match ${d.matchId} aborted (${d.reason}${d.detail ? `: ${d.detail}` : ''}) after ${d.attempts} attempt(s)`;
    default:
      return `${event.type} ${JSON.stringify(d)}`;
  }
}

const matchIdOf = (event: RecordedEvent): string | null => {
  const d: Raw = event.data ?? {};
  return typeof d.matchId === 'string' ? d.matchId : null;
};

/**
 * A player's event history in words: their player stream plus the streams of the matches it
 * names, merged in log order. Throws {@link ReplayInputError} for a player without events.
 */
export async function playerHistory(store: EventStore, tenantId: string, userId: string): Promise<PlayerHistory> {
  const own = await readWholeStream(store, playerStream(tenantId, userId));
  if (own.length === 0)
    throw new ReplayInputError(
      `no events for player ${userId} in tenant ${tenantId}`,
      'check the tenant and user id (the stream is player-<tenant>:<user>)',
    );
  const matchIds = [...new Set(own.map(matchIdOf).filter((m): m is string => m !== null))];
  const matchEvents: RecordedEvent[] = [];
  for (const matchId of matchIds)
    for (const event of await readWholeStream(store, matchStream(matchId)))
      if (event.metadata?.tenantId === tenantId) matchEvents.push(event);
  const all = [...own, ...matchEvents].sort((a, b) => a.position - b.position);
  return {
    tenantId,
    userId,
    lines: all.map((event) => ({
      position: event.position,
      at: event.recordedAt.toISOString(),
      stream: event.streamName,
      type: event.type,
      text: describeEvent(event, userId),
    })),
  };
}

async function readWholeStream(store: EventStore, streamName: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readStream(streamName, { fromRevision: out.length, maxCount: 1000 });
    out.push(...page);
    if (page.length < 1000) return out;
  }
}

export function formatPlayerHistory(history: PlayerHistory): string {
  const lines = [`history of ${history.userId} (tenant ${history.tenantId}): ${history.lines.length} events`];
  for (const l of history.lines) lines.push(`${l.at}  @${String(l.position).padEnd(16)} ${l.text}`);
  return lines.join('\n');
}

import type { QueueEntryResponse } from '@mm/contracts';
import type { QueueEntry } from '@mm/domain';
import { type PairingConfig, ratingWindow } from '@mm/pairing';
import type { QueueEntryRow } from '@mm/projections';

/** One queue entry, whichever side it was read from (read model or player stream). */
export interface EntryView {
  queueEntryId: string;
  userId: string;
  status: QueueEntryResponse['status'];
  poolKey: string;
  timeControl: string;
  mode: 'rated' | 'casual';
  rating: number;
  ratingRange: { min?: number; max?: number } | null;
  enqueuedAt: Date;
  endedAt: Date | null;
  matchId: string | null;
  gameId: string | null;
  colour: 'white' | 'black' | null;
  opponentId: string | null;
}

export const entryViewFromRow = (row: QueueEntryRow): EntryView => ({
  queueEntryId: row.queueEntryId,
  userId: row.userId,
  status: row.status,
  poolKey: row.poolKey,
  timeControl: row.timeControl,
  mode: row.mode,
  rating: row.rating,
  ratingRange: row.ratingRange,
  enqueuedAt: new Date(row.enqueuedAt),
  endedAt: row.endedAt ? new Date(row.endedAt) : null,
  matchId: row.matchId,
  gameId: row.gameId,
  colour: row.colour,
  opponentId: row.opponentId,
});

const statusOf = {
  searching: 'SEARCHING',
  matched: 'MATCHED',
  cancelled: 'CANCELLED',
  timed_out: 'TIMED_OUT',
} as const;

export const entryViewFromStream = (userId: string, entry: QueueEntry): EntryView => ({
  queueEntryId: entry.queueEntryId,
  userId,
  status: statusOf[entry.status],
  poolKey: entry.pool.key,
  timeControl: entry.pool.timeControl,
  mode: entry.pool.mode,
  rating: entry.rating,
  ratingRange: entry.ratingRange,
  enqueuedAt: new Date(entry.enqueuedAt),
  endedAt: entry.endedAt ? new Date(entry.endedAt) : null,
  matchId: entry.status === 'matched' ? entry.matchId : null,
  gameId: entry.gameId,
  colour: entry.colour,
  opponentId: entry.opponent?.userId ?? null,
});

export interface LiveFigures {
  positionEstimate: number | null;
  estimatedWaitSeconds: number | null;
}

/** The HTTP body of a queue entry at `now`. */
export function queueEntryBody(
  entry: EntryView,
  now: Date,
  pairing: PairingConfig,
  live: LiveFigures = { positionEstimate: null, estimatedWaitSeconds: null },
): QueueEntryResponse {
  const searching = entry.status === 'SEARCHING';
  const until = searching || !entry.endedAt ? now : entry.endedAt;
  const window = searching
    ? ratingWindow(
        { rating: entry.rating, enqueuedAt: entry.enqueuedAt.getTime(), ratingRange: entry.ratingRange },
        now.getTime(),
        pairing,
      )
    : null;
  return {
    queue_entry_id: entry.queueEntryId,
    status: entry.status,
    pool: { key: entry.poolKey, time_control: entry.timeControl, mode: entry.mode },
    rating: entry.rating,
    rating_range: entry.ratingRange,
    enqueued_at: entry.enqueuedAt.toISOString(),
    time_in_queue_seconds: Math.max(0, (until.getTime() - entry.enqueuedAt.getTime()) / 1000),
    rating_window: window ? { low: window.low, high: window.high } : null,
    position_estimate: searching ? live.positionEstimate : null,
    estimated_wait_seconds: searching ? live.estimatedWaitSeconds : null,
    match_id: entry.matchId,
    game_id: entry.gameId,
    colour: entry.colour,
    opponent_id: entry.opponentId,
    ended_at: entry.endedAt ? entry.endedAt.toISOString() : null,
  };
}

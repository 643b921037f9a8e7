import type { EventOf, PlayerEvent } from '@mm/contracts';
import { cacheStatesOf } from '../command-handling/state-cache.js';
import { accept, type DecideResult, type Decider, nothing, reject } from '../decider/decider.js';
import type {
  CancelQueueEntry,
  ClaimForChallenge,
  ClaimQueueEntry,
  ConfirmChallengeMatch,
  JoinQueue,
  PlayerCommand,
  RecordGameStarted,
  ReleaseChallengeMatch,
  ReleaseQueueEntry,
  SendChallenge,
  SettleChallenge,
  TimeOutQueueEntry,
} from './player-commands.js';
import {
  activeEntry,
  initialPlayerState,
  type LiveMatch,
  type PlayerState,
  pendingOutgoingChallenges,
  type QueueEntry,
} from './player-state.js';

type Result = DecideResult<PlayerEvent>;

const event = <T extends PlayerEvent['type']>(type: T, data: EventOf<T>['data']) => ({ type, data }) as PlayerEvent;

// I1: one searching entry per user; I2: no new entry while a match of this user is being created.
const joinQueue = (command: JoinQueue, state: PlayerState): Result => {
  const active = activeEntry(state);
  if (active?.status === 'searching')
    return reject('ALREADY_IN_QUEUE', `already searching with queue entry ${active.queueEntryId}`);
  if (state.liveMatch)
    return reject('ACTIVE_GAME_EXISTS', `a game is being created for match ${state.liveMatch.matchId}`);
  if (state.entries[command.queueEntryId])
    return reject('DUPLICATE_QUEUE_ENTRY', `queue entry id ${command.queueEntryId} was already used`);
  return accept(
    event('QueueJoined', {
      userId: command.userId,
      queueEntryId: command.queueEntryId,
      pool: command.pool,
      rating: command.rating,
      ratingSource: command.ratingSource,
      ratingRange: command.ratingRange,
      enqueuedAt: command.now,
    }),
  );
};

// I3: a matched entry cannot be cancelled. Cancelling an ended entry is not a silent
// success either: the caller learns the entry's real fate from the message (and can GET it).
const cancelQueueEntry = (command: CancelQueueEntry, state: PlayerState): Result => {
  const entry = state.entries[command.queueEntryId];
  if (!entry) return reject('QUEUE_ENTRY_NOT_FOUND', `queue entry ${command.queueEntryId} not found`);
  switch (entry.status) {
    case 'matched':
      return reject('CANNOT_CANCEL', `queue entry ${entry.queueEntryId} is already matched (match ${entry.matchId})`);
    case 'cancelled':
      return reject('CANNOT_CANCEL', `queue entry ${entry.queueEntryId} is already cancelled`);
    case 'timed_out':
      return reject('CANNOT_CANCEL', `queue entry ${entry.queueEntryId} has timed out`);
    case 'searching':
      return accept(
        event('QueueCancelled', {
          userId: command.userId,
          queueEntryId: entry.queueEntryId,
          reason: command.reason ?? 'user',
          cancelledAt: command.now,
        }),
      );
  }
};

const waitedMs = (entry: QueueEntry, now: string) => Math.max(0, Date.parse(now) - Date.parse(entry.enqueuedAt));

// Late or duplicate timeout jobs are harmless: anything but "still searching and over the limit" is a no-op.
const timeOutQueueEntry = (command: TimeOutQueueEntry, state: PlayerState): Result => {
  const entry = state.entries[command.queueEntryId];
  if (entry?.status !== 'searching') return nothing();
  const waited = waitedMs(entry, command.now);
  if (waited < command.maxQueueTimeMs) return nothing();
  return accept(
    event('QueueTimedOut', {
      userId: command.userId,
      queueEntryId: entry.queueEntryId,
      waitedMs: waited,
      timedOutAt: command.now,
    }),
  );
};

// I2/I3: only a searching entry can be claimed; the claim and a cancel race on this
// stream's expected revision, so exactly one of them wins.
const claimQueueEntry = (command: ClaimQueueEntry, state: PlayerState): Result => {
  const entry = state.entries[command.queueEntryId];
  if (!entry) return reject('QUEUE_ENTRY_NOT_FOUND', `queue entry ${command.queueEntryId} not found`);
  if (entry.status === 'matched' && entry.matchId === command.matchId) return nothing();
  if (entry.status !== 'searching')
    return reject('ENTRY_NOT_SEARCHING', `queue entry ${entry.queueEntryId} is ${entry.status}, not searching`);
  if (state.liveMatch) return reject('ACTIVE_GAME_EXISTS', `user is already in match ${state.liveMatch.matchId}`);
  return accept(
    event('QueueEntryMatched', {
      userId: command.userId,
      queueEntryId: entry.queueEntryId,
      matchId: command.matchId,
      opponent: command.opponent,
      matchedAt: command.now,
      ...(command.decision ? { decision: command.decision } : {}),
    }),
  );
};

// I5: a released entry searches again; evolve keeps its original enqueuedAt.
const releaseQueueEntry = (command: ReleaseQueueEntry, state: PlayerState): Result => {
  const entry = state.entries[command.queueEntryId];
  const heldByThisMatch =
    entry?.status === 'matched' &&
    entry.matchSource === 'queue' &&
    entry.matchId === command.matchId &&
    entry.gameId === null;
  if (!heldByThisMatch) return nothing();
  return accept(
    event('QueueEntryReleased', {
      userId: command.userId,
      queueEntryId: entry.queueEntryId,
      matchId: command.matchId,
      reason: command.reason,
      releasedAt: command.now,
    }),
  );
};

/** Events that finish accepting a challenge on this player's stream: the held entry is cancelled, the sent challenge settled. */
const challengeConfirmation = (state: PlayerState, live: LiveMatch, userId: string, now: string): PlayerEvent[] => {
  const events: PlayerEvent[] = [];
  const held = live.queueEntryId === null ? undefined : state.entries[live.queueEntryId];
  if (held?.status === 'matched' && held.matchId === live.matchId)
    events.push(
      event('QueueCancelled', {
        userId,
        queueEntryId: held.queueEntryId,
        reason: 'challenge_accepted',
        cancelledAt: now,
      }),
    );
  if (live.challengeId !== null && state.outgoingChallenges[live.challengeId])
    events.push(
      event('ChallengeSettled', { userId, challengeId: live.challengeId, outcome: 'accepted', settledAt: now }),
    );
  return events;
};

const recordGameStarted = (command: RecordGameStarted, state: PlayerState): Result => {
  const started = state.startedGames[command.matchId];
  if (started === command.gameId) return nothing();
  if (started !== undefined)
    return reject('GAME_ALREADY_CREATED', `match ${command.matchId} already started game ${started}`);
  const live = state.liveMatch;
  if (live?.matchId !== command.matchId) return reject('NOT_IN_MATCH', `user is not in match ${command.matchId}`);
  const claimedEntry = live.source === 'queue' ? live.queueEntryId : null;
  if (command.queueEntryId !== claimedEntry)
    return reject(
      'NOT_IN_MATCH',
      `match ${command.matchId} holds queue entry ${claimedEntry}, not ${command.queueEntryId}`,
    );
  // A challenge match whose confirmation step was lost is confirmed here, so the flow converges.
  const confirmation =
    live.source === 'challenge' ? challengeConfirmation(state, live, command.userId, command.now) : [];
  return accept(
    ...confirmation,
    event('QueueEntryGameStarted', {
      userId: command.userId,
      queueEntryId: claimedEntry,
      matchId: command.matchId,
      gameId: command.gameId,
      colour: command.colour,
      startedAt: command.now,
    }),
  );
};

// The outgoing-challenge cap lives on the challenger's stream so concurrent sends are
// serialised by its expected revision. Unanswered challenges stop counting at expiry,
// which also heals a send whose ChallengeIssued was never written.
const sendChallenge = (command: SendChallenge, state: PlayerState): Result => {
  if (command.opponentId === command.userId) return reject('CANNOT_CHALLENGE_SELF', 'you cannot challenge yourself');
  if (state.outgoingChallenges[command.challengeId]) return nothing();
  const pending = pendingOutgoingChallenges(state, command.now);
  const replaced = pending.filter((c) => c.opponentId === command.opponentId);
  if (pending.length - replaced.length >= command.maxPendingChallenges)
    return reject(
      'TOO_MANY_PENDING_CHALLENGES',
      `at most ${command.maxPendingChallenges} pending outgoing challenges are allowed`,
    );
  return accept(
    ...replaced.map((c) =>
      event('ChallengeSettled', {
        userId: command.userId,
        challengeId: c.challengeId,
        outcome: 'replaced',
        settledAt: command.now,
      }),
    ),
    event('ChallengeSent', {
      userId: command.userId,
      challengeId: command.challengeId,
      opponentId: command.opponentId,
      timeControl: command.timeControl,
      mode: command.mode,
      expiresAt: command.expiresAt,
      sentAt: command.now,
    }),
  );
};

const settleChallenge = (command: SettleChallenge, state: PlayerState): Result =>
  state.outgoingChallenges[command.challengeId]
    ? accept(
        event('ChallengeSettled', {
          userId: command.userId,
          challengeId: command.challengeId,
          outcome: command.outcome,
          settledAt: command.now,
        }),
      )
    : nothing();

// I2: a player in a match being created cannot be reserved for another one. A searching
// entry is held (not cancelled yet) so a failed accept can give it back untouched.
const claimForChallenge = (command: ClaimForChallenge, state: PlayerState): Result => {
  if (state.liveMatch?.matchId === command.matchId || state.startedGames[command.matchId] !== undefined)
    return nothing();
  if (state.liveMatch)
    return reject(
      'CANNOT_ACCEPT_CHALLENGE',
      `user ${command.userId} is already matched (match ${state.liveMatch.matchId} is being created)`,
    );
  if (command.role === 'challenger' && !state.outgoingChallenges[command.challengeId])
    return reject(
      'CANNOT_ACCEPT_CHALLENGE',
      `challenge ${command.challengeId} is no longer pending for the challenger (withdrawn or replaced)`,
    );
  const active = activeEntry(state);
  return accept(
    event('ChallengeMatchClaimed', {
      userId: command.userId,
      challengeId: command.challengeId,
      matchId: command.matchId,
      role: command.role,
      opponentId: command.opponentId,
      heldQueueEntryId: active?.status === 'searching' ? active.queueEntryId : null,
      claimedAt: command.now,
    }),
  );
};

const confirmChallengeMatch = (command: ConfirmChallengeMatch, state: PlayerState): Result => {
  const live = state.liveMatch;
  if (live?.matchId !== command.matchId || live.source !== 'challenge') return nothing();
  return accept(...challengeConfirmation(state, live, command.userId, command.now));
};

const releaseChallengeMatch = (command: ReleaseChallengeMatch, state: PlayerState): Result => {
  const live = state.liveMatch;
  if (live?.matchId !== command.matchId || live.source !== 'challenge') return nothing();
  return accept(
    event('ChallengeMatchReleased', {
      userId: command.userId,
      challengeId: command.challengeId,
      matchId: command.matchId,
      reason: command.reason,
      releasedAt: command.now,
    }),
  );
};

export const decidePlayer = (command: PlayerCommand, state: PlayerState): Result => {
  switch (command.type) {
    case 'JoinQueue':
      return joinQueue(command, state);
    case 'CancelQueueEntry':
      return cancelQueueEntry(command, state);
    case 'TimeOutQueueEntry':
      return timeOutQueueEntry(command, state);
    case 'ClaimQueueEntry':
      return claimQueueEntry(command, state);
    case 'ReleaseQueueEntry':
      return releaseQueueEntry(command, state);
    case 'RecordGameStarted':
      return recordGameStarted(command, state);
    case 'SendChallenge':
      return sendChallenge(command, state);
    case 'SettleChallenge':
      return settleChallenge(command, state);
    case 'ClaimForChallenge':
      return claimForChallenge(command, state);
    case 'ConfirmChallengeMatch':
      return confirmChallengeMatch(command, state);
    case 'ReleaseChallengeMatch':
      return releaseChallengeMatch(command, state);
  }
};

const updateEntry = (state: PlayerState, queueEntryId: string, patch: Partial<QueueEntry>): PlayerState => {
  const entry = state.entries[queueEntryId];
  if (!entry) return state;
  return { ...state, entries: { ...state.entries, [queueEntryId]: { ...entry, ...patch } } };
};

const endLiveMatch = (state: PlayerState, matchId: string): PlayerState =>
  state.liveMatch?.matchId === matchId ? { ...state, liveMatch: null } : state;

const clearActive = (state: PlayerState, queueEntryId: string | null): PlayerState =>
  state.activeEntryId !== null && state.activeEntryId === queueEntryId ? { ...state, activeEntryId: null } : state;

const backToSearching: Partial<QueueEntry> = { status: 'searching', matchId: null, matchSource: null, opponent: null };

export const evolvePlayer = (state: PlayerState, event: PlayerEvent): PlayerState => {
  switch (event.type) {
    case 'QueueJoined': {
      const { queueEntryId, pool, rating, ratingSource, ratingRange, enqueuedAt } = event.data;
      const entry: QueueEntry = {
        queueEntryId,
        pool,
        rating,
        ratingSource,
        ratingRange,
        enqueuedAt,
        status: 'searching',
        matchId: null,
        matchSource: null,
        gameId: null,
        colour: null,
        opponent: null,
        endedAt: null,
        cancelReason: null,
      };
      return { ...state, activeEntryId: queueEntryId, entries: { ...state.entries, [queueEntryId]: entry } };
    }
    case 'QueueCancelled': {
      const { queueEntryId, reason, cancelledAt } = event.data;
      const next = updateEntry(state, queueEntryId, {
        status: 'cancelled',
        cancelReason: reason,
        endedAt: cancelledAt,
      });
      const live = next.liveMatch;
      const withLive =
        live?.queueEntryId === queueEntryId ? { ...next, liveMatch: { ...live, queueEntryId: null } } : next;
      return clearActive(withLive, queueEntryId);
    }
    case 'QueueTimedOut': {
      const { queueEntryId, timedOutAt } = event.data;
      return clearActive(updateEntry(state, queueEntryId, { status: 'timed_out', endedAt: timedOutAt }), queueEntryId);
    }
    case 'QueueEntryMatched': {
      const { queueEntryId, matchId, opponent, matchedAt } = event.data;
      const next = updateEntry(state, queueEntryId, { status: 'matched', matchId, matchSource: 'queue', opponent });
      return {
        ...next,
        liveMatch: {
          matchId,
          source: 'queue',
          queueEntryId,
          challengeId: null,
          opponentId: opponent.userId,
          since: matchedAt,
        },
      };
    }
    case 'QueueEntryReleased': {
      const { queueEntryId, matchId } = event.data;
      return endLiveMatch(updateEntry(state, queueEntryId, backToSearching), matchId);
    }
    case 'QueueEntryGameStarted': {
      const { queueEntryId, matchId, gameId, colour, startedAt } = event.data;
      let next = { ...state, startedGames: { ...state.startedGames, [matchId]: gameId } };
      if (queueEntryId !== null) {
        next = updateEntry(next, queueEntryId, { gameId, colour, endedAt: startedAt });
        next = clearActive(next, queueEntryId);
      }
      return endLiveMatch(next, matchId);
    }
    case 'ChallengeSent': {
      const { challengeId, opponentId, timeControl, mode, expiresAt } = event.data;
      return {
        ...state,
        outgoingChallenges: {
          ...state.outgoingChallenges,
          [challengeId]: { challengeId, opponentId, timeControl, mode, expiresAt },
        },
      };
    }
    case 'ChallengeSettled': {
      const { [event.data.challengeId]: _settled, ...rest } = state.outgoingChallenges;
      return { ...state, outgoingChallenges: rest };
    }
    case 'ChallengeMatchClaimed': {
      const { challengeId, matchId, opponentId, heldQueueEntryId, claimedAt } = event.data;
      const next =
        heldQueueEntryId === null
          ? state
          : updateEntry(state, heldQueueEntryId, { status: 'matched', matchId, matchSource: 'challenge' });
      return {
        ...next,
        liveMatch: {
          matchId,
          source: 'challenge',
          queueEntryId: heldQueueEntryId,
          challengeId,
          opponentId,
          since: claimedAt,
        },
      };
    }
    case 'ChallengeMatchReleased': {
      const { matchId } = event.data;
      const heldId = state.liveMatch?.matchId === matchId ? state.liveMatch.queueEntryId : null;
      const held = heldId === null ? undefined : state.entries[heldId];
      const next =
        held?.status === 'matched' && held.matchId === matchId
          ? updateEntry(state, held.queueEntryId, backToSearching)
          : state;
      return endLiveMatch(next, matchId);
    }
    default:
      return state;
  }
};

/**
 * The player stream's decider (stream `player-<tenant>:<user>`). A player's stream grows with
 * every join and game for as long as the player plays, so its states are cached (`loadState`
 * reads only what was appended since).
 */
export const playerDecider: Decider<PlayerState, PlayerCommand, PlayerEvent> = cacheStatesOf({
  decide: decidePlayer,
  evolve: evolvePlayer,
  initialState: initialPlayerState,
});

import { makePool, type PlayerEvent } from '@mm/contracts';
import { describe, expect, it } from 'vitest';
import { specFor } from '../testing/decider-specification.js';
import type { PlayerCommand } from './player-commands.js';
import { playerDecider } from './player-decider.js';
import { initialPlayerState } from './player-state.js';

const given = specFor(playerDecider);
const user = 'alice';
const t0 = '2026-01-01T10:00:00.000Z';
const t1 = '2026-01-01T10:00:30.000Z';
const t2 = '2026-01-01T10:01:00.000Z';
const pool = makePool('3+0', 'rated');
const bob = { userId: 'bob', queueEntryId: 'e-bob', rating: 1520 };

const joined = (queueEntryId = 'e1', enqueuedAt = t0): PlayerEvent => ({
  type: 'QueueJoined',
  data: { userId: user, queueEntryId, pool, rating: 1500, ratingSource: 'rating-api', ratingRange: null, enqueuedAt },
});
const matched = (matchId = 'm1', queueEntryId = 'e1'): PlayerEvent => ({
  type: 'QueueEntryMatched',
  data: { userId: user, queueEntryId, matchId, opponent: bob, matchedAt: t1 },
});
const released = (matchId = 'm1'): PlayerEvent => ({
  type: 'QueueEntryReleased',
  data: { userId: user, queueEntryId: 'e1', matchId, reason: 'match_aborted', releasedAt: t2 },
});
const cancelled = (reason: 'user' | 'challenge_accepted' = 'user', queueEntryId = 'e1', at = t1): PlayerEvent => ({
  type: 'QueueCancelled',
  data: { userId: user, queueEntryId, reason, cancelledAt: at },
});
const timedOut: PlayerEvent = {
  type: 'QueueTimedOut',
  data: { userId: user, queueEntryId: 'e1', waitedMs: 600_000, timedOutAt: t2 },
};
const gameStarted = (queueEntryId: string | null = 'e1', matchId = 'm1'): PlayerEvent => ({
  type: 'QueueEntryGameStarted',
  data: { userId: user, queueEntryId, matchId, gameId: 'g1', colour: 'white', startedAt: t2 },
});
const sent = (challengeId: string, opponentId = 'bob', expiresAt = t2): PlayerEvent => ({
  type: 'ChallengeSent',
  data: { userId: user, challengeId, opponentId, timeControl: '5+3', mode: 'casual', expiresAt, sentAt: t0 },
});
const settled = (challengeId: string, outcome: 'accepted' | 'replaced' | 'declined', at = t1): PlayerEvent => ({
  type: 'ChallengeSettled',
  data: { userId: user, challengeId, outcome, settledAt: at },
});
const challengeClaimed = (
  heldQueueEntryId: string | null,
  role: 'challenger' | 'opponent' = 'opponent',
): PlayerEvent => ({
  type: 'ChallengeMatchClaimed',
  data: { userId: user, challengeId: 'c1', matchId: 'c1', role, opponentId: 'bob', heldQueueEntryId, claimedAt: t1 },
});
const challengeReleased: PlayerEvent = {
  type: 'ChallengeMatchReleased',
  data: { userId: user, challengeId: 'c1', matchId: 'c1', reason: 'challenge_not_accepted', releasedAt: t2 },
};

const join = (queueEntryId = 'e2', now = t1): PlayerCommand => ({
  type: 'JoinQueue',
  userId: user,
  queueEntryId,
  pool,
  rating: 1500,
  ratingSource: 'rating-api',
  ratingRange: null,
  now,
});
const cancel = (queueEntryId = 'e1'): PlayerCommand => ({
  type: 'CancelQueueEntry',
  userId: user,
  queueEntryId,
  now: t1,
});
const claim = (matchId = 'm1', queueEntryId = 'e1'): PlayerCommand => ({
  type: 'ClaimQueueEntry',
  userId: user,
  queueEntryId,
  matchId,
  opponent: bob,
  now: t1,
});
const release = (matchId = 'm1'): PlayerCommand => ({
  type: 'ReleaseQueueEntry',
  userId: user,
  queueEntryId: 'e1',
  matchId,
  reason: 'match_aborted',
  now: t2,
});
const startGame = (queueEntryId: string | null = 'e1', matchId = 'm1', gameId = 'g1'): PlayerCommand => ({
  type: 'RecordGameStarted',
  userId: user,
  queueEntryId,
  matchId,
  gameId,
  colour: 'white',
  now: t2,
});
const timeOut = (now: string, maxQueueTimeMs = 60_000): PlayerCommand => ({
  type: 'TimeOutQueueEntry',
  userId: user,
  queueEntryId: 'e1',
  now,
  maxQueueTimeMs,
});
const send = (challengeId: string, opponentId = 'bob', maxPendingChallenges = 2, now = t0): PlayerCommand => ({
  type: 'SendChallenge',
  userId: user,
  challengeId,
  opponentId,
  timeControl: '5+3',
  mode: 'casual',
  expiresAt: t2,
  maxPendingChallenges,
  now,
});
const claimForChallenge = (role: 'challenger' | 'opponent' = 'opponent', matchId = 'c1'): PlayerCommand => ({
  type: 'ClaimForChallenge',
  userId: user,
  challengeId: 'c1',
  matchId,
  role,
  opponentId: 'bob',
  now: t1,
});
const confirm: PlayerCommand = {
  type: 'ConfirmChallengeMatch',
  userId: user,
  challengeId: 'c1',
  matchId: 'c1',
  now: t2,
};
const releaseChallenge: PlayerCommand = {
  type: 'ReleaseChallengeMatch',
  userId: user,
  challengeId: 'c1',
  matchId: 'c1',
  reason: 'challenge_not_accepted',
  now: t2,
};

describe('player: JoinQueue (I1)', () => {
  it('starts a searching entry, enqueued now', () => {
    given([])
      .when(join('e1', t0))
      .then([joined('e1', t0)]);
  });

  it('rejects a second searching entry', () => {
    expect(given([joined()]).when(join()).thenError('ALREADY_IN_QUEUE')).toContain('e1');
  });

  it('rejects while a match of this player is being created (claimed, no game yet)', () => {
    given([joined(), matched()]).when(join()).thenError('ACTIVE_GAME_EXISTS');
    given([challengeClaimed(null)])
      .when(join())
      .thenError('ACTIVE_GAME_EXISTS');
  });

  it('allows a new entry once the previous one ended', () => {
    for (const ended of [[cancelled()], [timedOut], [matched(), gameStarted()]])
      given([joined(), ...ended])
        .when(join('e2', t2))
        .then([joined('e2', t2)]);
  });

  it('rejects reusing an entry id', () => {
    given([joined(), cancelled()]).when(join('e1')).thenError('DUPLICATE_QUEUE_ENTRY');
  });
});

describe('player: CancelQueueEntry (I3)', () => {
  it('cancels a searching entry', () => {
    given([joined()]).when(cancel()).then([cancelled()]);
  });

  it('404 for an unknown entry', () => {
    given([joined()]).when(cancel('nope')).thenError('QUEUE_ENTRY_NOT_FOUND');
  });

  it('409 once matched, even before the game exists', () => {
    expect(given([joined(), matched()]).when(cancel()).thenError('CANNOT_CANCEL')).toMatch(/matched/);
    given([joined(), matched(), gameStarted()]).when(cancel()).thenError('CANNOT_CANCEL');
  });

  it('an already cancelled or timed-out entry cannot be cancelled again (the message says why)', () => {
    expect(given([joined(), cancelled()]).when(cancel()).thenError('CANNOT_CANCEL')).toMatch(/already cancelled/);
    expect(given([joined(), timedOut]).when(cancel()).thenError('CANNOT_CANCEL')).toMatch(/timed out/);
  });

  it('can cancel again after a release (the entry is searching again)', () => {
    given([joined(), matched(), released()]).when(cancel()).then([cancelled()]);
  });
});

describe('player: TimeOutQueueEntry', () => {
  it('times out a searching entry past the limit', () => {
    given([joined()])
      .when(timeOut(t2, 60_000))
      .then([{ type: 'QueueTimedOut', data: { userId: user, queueEntryId: 'e1', waitedMs: 60_000, timedOutAt: t2 } }]);
  });

  it('is a no-op before the limit, for ended or matched entries, unknown ids, and repeats', () => {
    given([joined()]).when(timeOut(t1, 60_000)).thenNothing();
    given([joined(), matched()]).when(timeOut(t2)).thenNothing();
    given([joined(), cancelled()]).when(timeOut(t2)).thenNothing();
    given([joined(), timedOut]).when(timeOut(t2)).thenNothing();
    given([]).when(timeOut(t2)).thenNothing();
  });

  it('counts waiting from the ORIGINAL enqueue time after a release', () => {
    given([joined(), matched(), released()])
      .when(timeOut(t2, 60_000))
      .then([{ type: 'QueueTimedOut', data: { userId: user, queueEntryId: 'e1', waitedMs: 60_000, timedOutAt: t2 } }]);
  });
});

describe('player: ClaimQueueEntry (I2, I3)', () => {
  it('claims a searching entry', () => {
    given([joined()]).when(claim()).then([matched()]);
  });

  it('is idempotent for the same match', () => {
    given([joined(), matched()]).when(claim('m1')).thenNothing();
  });

  it('refuses entries that are not searching', () => {
    given([joined(), matched('m1')])
      .when(claim('m2'))
      .thenError('ENTRY_NOT_SEARCHING');
    given([joined(), cancelled()]).when(claim()).thenError('ENTRY_NOT_SEARCHING');
    given([joined(), timedOut]).when(claim()).thenError('ENTRY_NOT_SEARCHING');
    given([joined(), matched(), gameStarted()]).when(claim('m2')).thenError('ENTRY_NOT_SEARCHING');
    given([joined(), challengeClaimed('e1')])
      .when(claim('m2'))
      .thenError('ENTRY_NOT_SEARCHING');
  });

  it('404 for an unknown entry', () => {
    given([]).when(claim()).thenError('QUEUE_ENTRY_NOT_FOUND');
  });

  it('a released entry can be claimed by another match', () => {
    given([joined(), matched('m1'), released('m1')])
      .when(claim('m2'))
      .then([matched('m2')]);
  });
});

describe('player: ReleaseQueueEntry (I5)', () => {
  it('releases an entry claimed by that match', () => {
    given([joined(), matched()]).when(release()).then([released()]);
  });

  it('is a no-op for another match, a searching entry, a started game, or a repeat', () => {
    given([joined(), matched('m1')])
      .when(release('m2'))
      .thenNothing();
    given([joined()]).when(release()).thenNothing();
    given([joined(), matched(), gameStarted()]).when(release()).thenNothing();
    given([joined(), matched(), released()]).when(release()).thenNothing();
  });

  it('keeps the original enqueuedAt and ends the live match', () => {
    const state = [joined('e1', t0), matched(), released()].reduce(playerDecider.evolve, initialPlayerState());
    expect(state.entries.e1).toMatchObject({ status: 'searching', enqueuedAt: t0, matchId: null, opponent: null });
    expect(state.liveMatch).toBeNull();
    expect(state.activeEntryId).toBe('e1');
  });
});

describe('player: RecordGameStarted', () => {
  it('records the game for a claimed entry and ends the live match', () => {
    given([joined(), matched()]).when(startGame()).then([gameStarted()]);
    const state = [joined(), matched(), gameStarted()].reduce(playerDecider.evolve, initialPlayerState());
    expect(state.entries.e1).toMatchObject({ status: 'matched', gameId: 'g1', colour: 'white', endedAt: t2 });
    expect(state.liveMatch).toBeNull();
    expect(state.activeEntryId).toBeNull();
  });

  it('is idempotent; a different game for the same match is refused', () => {
    given([joined(), matched(), gameStarted()]).when(startGame()).thenNothing();
    given([joined(), matched(), gameStarted()])
      .when(startGame('e1', 'm1', 'g2'))
      .thenError('GAME_ALREADY_CREATED');
  });

  it('refuses a match the player is not in, or the wrong entry', () => {
    given([joined()]).when(startGame()).thenError('NOT_IN_MATCH');
    given([joined(), matched('m1')])
      .when(startGame('e1', 'm2'))
      .thenError('NOT_IN_MATCH');
    given([joined(), matched('m1')])
      .when(startGame(null, 'm1'))
      .thenError('NOT_IN_MATCH');
  });

  it('for a challenge match: confirms it (held entry cancelled, challenge settled) if that step was lost', () => {
    given([sent('c1'), joined(), challengeClaimed('e1', 'challenger')])
      .when(startGame(null, 'c1'))
      .then([cancelled('challenge_accepted', 'e1', t2), settled('c1', 'accepted', t2), gameStarted(null, 'c1')]);
  });
});

describe('player: challenges — outgoing cap', () => {
  it('records a sent challenge', () => {
    given([])
      .when(send('c1'))
      .then([sent('c1')]);
  });

  it('cannot challenge yourself', () => {
    given([]).when(send('c1', user)).thenError('CANNOT_CHALLENGE_SELF');
  });

  it('caps pending outgoing challenges', () => {
    given([sent('c1', 'bob'), sent('c2', 'carol')])
      .when(send('c3', 'dave', 2))
      .thenError('TOO_MANY_PENDING_CHALLENGES');
  });

  it('settled or expired-by-time challenges do not count', () => {
    given([sent('c1', 'bob'), sent('c2', 'carol'), settled('c1', 'declined')])
      .when(send('c3', 'dave', 2))
      .then([sent('c3', 'dave')]);
    given([sent('c1', 'bob'), sent('c2', 'carol')])
      .when(send('c3', 'dave', 2, t2))
      .then([{ ...sent('c3', 'dave'), data: { ...sent('c3', 'dave').data, sentAt: t2 } } as PlayerEvent]);
  });

  it('a new challenge to the same opponent replaces the pending one', () => {
    given([sent('c1', 'bob'), sent('c2', 'carol')])
      .when(send('c3', 'bob', 2))
      .then([settled('c1', 'replaced', t0), sent('c3', 'bob')]);
  });

  it('is idempotent per challenge id', () => {
    given([sent('c1')])
      .when(send('c1'))
      .thenNothing();
  });

  it('SettleChallenge settles once', () => {
    const settle: PlayerCommand = {
      type: 'SettleChallenge',
      userId: user,
      challengeId: 'c1',
      outcome: 'declined',
      now: t1,
    };
    given([sent('c1')])
      .when(settle)
      .then([settled('c1', 'declined')]);
    given([sent('c1'), settled('c1', 'declined')])
      .when(settle)
      .thenNothing();
  });
});

describe('player: challenges — accepting (I1–I3 across challenge and queue)', () => {
  it('reserves an idle player', () => {
    given([])
      .when(claimForChallenge())
      .then([challengeClaimed(null)]);
  });

  it('holds a searching entry instead of cancelling it', () => {
    given([joined()])
      .when(claimForChallenge())
      .then([challengeClaimed('e1')]);
    const state = [joined(), challengeClaimed('e1')].reduce(playerDecider.evolve, initialPlayerState());
    expect(state.entries.e1).toMatchObject({ status: 'matched', matchSource: 'challenge', matchId: 'c1' });
  });

  it('a held entry can be neither cancelled nor claimed by the queue', () => {
    given([joined(), challengeClaimed('e1')])
      .when(cancel())
      .thenError('CANNOT_CANCEL');
    given([joined(), challengeClaimed('e1')])
      .when(claim('m9'))
      .thenError('ENTRY_NOT_SEARCHING');
  });

  it('409 when the player is already matched (queue or another challenge)', () => {
    given([joined(), matched()]).when(claimForChallenge()).thenError('CANNOT_ACCEPT_CHALLENGE');
    given([challengeClaimed(null)])
      .when(claimForChallenge('opponent', 'c9'))
      .thenError('CANNOT_ACCEPT_CHALLENGE');
  });

  it('is idempotent for the same match, also after its game started', () => {
    given([challengeClaimed(null)])
      .when(claimForChallenge())
      .thenNothing();
    given([challengeClaimed(null), gameStarted(null, 'c1')])
      .when(claimForChallenge())
      .thenNothing();
  });

  it('the challenger side requires the challenge still pending on the challenger stream', () => {
    given([sent('c1')])
      .when(claimForChallenge('challenger'))
      .then([challengeClaimed(null, 'challenger')]);
    given([sent('c1'), settled('c1', 'replaced')])
      .when(claimForChallenge('challenger'))
      .thenError('CANNOT_ACCEPT_CHALLENGE');
    given([]).when(claimForChallenge('challenger')).thenError('CANNOT_ACCEPT_CHALLENGE');
  });

  it('confirming cancels the held entry (challenge_accepted) and settles the sent challenge', () => {
    given([sent('c1'), joined(), challengeClaimed('e1', 'challenger')])
      .when(confirm)
      .then([cancelled('challenge_accepted', 'e1', t2), settled('c1', 'accepted', t2)]);
    given([
      sent('c1'),
      joined(),
      challengeClaimed('e1', 'challenger'),
      cancelled('challenge_accepted', 'e1', t2),
      settled('c1', 'accepted', t2),
    ])
      .when(confirm)
      .thenNothing();
    given([]).when(confirm).thenNothing();
  });

  it('releasing gives a held entry back, searching, with its original enqueue time', () => {
    given([joined(), challengeClaimed('e1')])
      .when(releaseChallenge)
      .then([challengeReleased]);
    const state = [joined('e1', t0), challengeClaimed('e1'), challengeReleased].reduce(
      playerDecider.evolve,
      initialPlayerState(),
    );
    expect(state.entries.e1).toMatchObject({ status: 'searching', enqueuedAt: t0, matchId: null });
    expect(state.liveMatch).toBeNull();
    given([joined(), challengeClaimed('e1'), challengeReleased])
      .when(claim('m2'))
      .then([matched('m2')]);
  });

  it('release after confirmation ends the live match but the cancelled entry stays cancelled', () => {
    const state = [
      joined(),
      challengeClaimed('e1'),
      cancelled('challenge_accepted', 'e1', t2),
      challengeReleased,
    ].reduce(playerDecider.evolve, initialPlayerState());
    expect(state.entries.e1?.status).toBe('cancelled');
    expect(state.liveMatch).toBeNull();
    expect(state.activeEntryId).toBeNull();
  });

  it('release is a no-op when not reserved for that match', () => {
    given([]).when(releaseChallenge).thenNothing();
    given([joined(), matched()])
      .when({ ...releaseChallenge, matchId: 'm1' } as PlayerCommand)
      .thenNothing();
  });
});

import { challengeStream, makePool, matchStream, playerStream } from '@mm/contracts';
import type { EventMetadata, EventStore } from '@mm/event-store';
import { createMemoryEventStore } from '@mm/event-store/memory';
import { beforeEach, describe, expect, it } from 'vitest';
import { handleCommand } from '../command-handling/handle-command.js';
import { loadState } from '../command-handling/load-state.js';
import type { PlayerCommand } from '../player/player-commands.js';
import { playerDecider } from '../player/player-decider.js';
import { acceptChallenge, type ChallengeFlowContext, recoverChallengeMatch } from './challenge-acceptance.js';
import { endChallenge, issueChallenge } from './challenge-lifecycle.js';

const tenant = 'acme';
const now = '2026-01-01T10:00:00.000Z';
const later = '2026-01-01T10:00:10.000Z';
const expiresAt = '2026-01-01T10:05:00.000Z';
const metadata: EventMetadata = {
  tenantId: tenant,
  correlationId: 'req',
  causationId: null,
  actor: { type: 'user', id: 'x' },
};
const ratings: Record<string, number> = { alice: 1500, bob: 1600, carol: 1700 };

let store: EventStore;
let context: ChallengeFlowContext;
beforeEach(() => {
  store = createMemoryEventStore();
  context = { store, metadata, now: later, ratingOf: async (userId) => ratings[userId] ?? 1500 };
});

const onPlayer = (userId: string, command: PlayerCommand) =>
  handleCommand({ store, streamName: playerStream(tenant, userId), decider: playerDecider, command, metadata });
const joinQueue = (userId: string, queueEntryId: string) =>
  onPlayer(userId, {
    type: 'JoinQueue',
    userId,
    queueEntryId,
    pool: makePool('3+0', 'rated'),
    rating: ratings[userId]!,
    ratingSource: 'rating-api',
    ratingRange: null,
    now,
  });
const issue = (challengeId: string, opponentId = 'bob', maxPendingChallenges = 3) =>
  issueChallenge(
    { store, metadata, now },
    {
      challengeId,
      challengerId: 'alice',
      opponentId,
      timeControl: '5+3',
      mode: 'rated',
      colour: 'white',
      message: null,
      expiresAt,
      maxPendingChallenges,
    },
  );
const player = async (userId: string) => (await loadState(store, playerStream(tenant, userId), playerDecider)).state;
const types = async (stream: string) => (await store.readStream(stream)).map((e) => e.type);

describe('issuing challenges', () => {
  it('writes the slot on the challenger stream, then the challenge', async () => {
    expect(await issue('c1')).toEqual({ ok: true });
    expect(await types(playerStream(tenant, 'alice'))).toEqual(['ChallengeSent']);
    expect(await types(challengeStream('c1'))).toEqual(['ChallengeIssued']);
  });

  it('enforces the cap; ending a challenge frees its slot', async () => {
    await issue('c1', 'bob', 1);
    expect(await issue('c2', 'carol', 1)).toMatchObject({ ok: false, error: { code: 'TOO_MANY_PENDING_CHALLENGES' } });
    expect(await types(challengeStream('c2'))).toEqual([]);
    await endChallenge(
      { store, metadata, now },
      { type: 'DeclineChallenge', challengeId: 'c1', userId: 'bob', reason: 'later', now },
    );
    expect(await issue('c2', 'carol', 1)).toEqual({ ok: true });
  });

  it('a new challenge to the same opponent cancels the old one as replaced; the old one cannot be accepted', async () => {
    await issue('c1');
    await issue('c2');
    expect(await types(challengeStream('c1'))).toEqual(['ChallengeIssued', 'ChallengeCancelled']);
    expect(await acceptChallenge(context, { challengeId: 'c1', acceptorId: 'bob' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_CHALLENGE_STATE' },
    });
  });
});

describe('accepting a challenge', () => {
  it('creates the match and takes the place of the players’ searching entries', async () => {
    await issue('c1');
    await joinQueue('bob', 'e-bob');
    await joinQueue('alice', 'e-alice');
    expect(await acceptChallenge(context, { challengeId: 'c1', acceptorId: 'bob' })).toEqual({
      ok: true,
      matchId: 'c1',
    });

    expect(await types(challengeStream('c1'))).toEqual(['ChallengeIssued', 'ChallengeAccepted']);
    const [created] = await store.readStream(matchStream('c1'));
    expect(created).toMatchObject({
      type: 'MatchCreated',
      data: {
        source: 'challenge',
        challengeId: 'c1',
        white: { userId: 'alice', rating: 1500 },
        black: { userId: 'bob', rating: 1600 },
      },
    });
    const bob = await player('bob');
    expect(bob.entries['e-bob']).toMatchObject({ status: 'cancelled', cancelReason: 'challenge_accepted' });
    expect(bob.liveMatch).toMatchObject({ matchId: 'c1', source: 'challenge', opponentId: 'alice' });
    const alice = await player('alice');
    expect(alice.entries['e-alice']?.status).toBe('cancelled');
    expect(alice.outgoingChallenges).toEqual({});
    // I1/I2: neither can join the queue while the game is being created
    expect(await joinQueue('bob', 'e-bob-2')).toMatchObject({ ok: false, error: { code: 'ACTIVE_GAME_EXISTS' } });
  });

  it('is idempotent: re-running the accept appends nothing new', async () => {
    await issue('c1');
    await acceptChallenge(context, { challengeId: 'c1', acceptorId: 'bob' });
    const before = (await store.readAll()).length;
    expect(await acceptChallenge(context, { challengeId: 'c1', acceptorId: 'bob' })).toEqual({
      ok: true,
      matchId: 'c1',
    });
    expect((await store.readAll()).length).toBe(before);
  });

  it('re-running an accept after the match was aborted does not reserve the players again', async () => {
    await issue('c1');
    await acceptChallenge(context, { challengeId: 'c1', acceptorId: 'bob' });
    for (const userId of ['alice', 'bob'])
      await onPlayer(userId, {
        type: 'ReleaseChallengeMatch',
        userId,
        challengeId: 'c1',
        matchId: 'c1',
        reason: 'match_aborted',
        now: later,
      });
    expect(await acceptChallenge(context, { challengeId: 'c1', acceptorId: 'bob' })).toEqual({
      ok: true,
      matchId: 'c1',
    });
    expect((await player('alice')).liveMatch).toBeNull();
    expect((await player('bob')).liveMatch).toBeNull();
  });

  it('409 when the challenger is already matched; the acceptor is not touched', async () => {
    await issue('c1');
    await joinQueue('bob', 'e-bob');
    await onPlayer('alice', {
      type: 'ClaimForChallenge',
      userId: 'alice',
      challengeId: 'c9',
      matchId: 'c9',
      role: 'opponent',
      opponentId: 'carol',
      now,
    });
    expect(await acceptChallenge(context, { challengeId: 'c1', acceptorId: 'bob' })).toMatchObject({
      ok: false,
      error: { code: 'CANNOT_ACCEPT_CHALLENGE' },
    });
    expect(await types(playerStream(tenant, 'bob'))).toEqual(['QueueJoined']);
    expect(await types(challengeStream('c1'))).toEqual(['ChallengeIssued']);
  });

  it('409 when the acceptor is already matched; the challenger’s reservation is compensated', async () => {
    await issue('c1');
    await joinQueue('alice', 'e-alice');
    await joinQueue('bob', 'e-bob');
    await onPlayer('bob', {
      type: 'ClaimQueueEntry',
      userId: 'bob',
      queueEntryId: 'e-bob',
      matchId: 'm1',
      opponent: { userId: 'carol', queueEntryId: 'e-carol', rating: 1700 },
      now,
    });
    expect(await acceptChallenge(context, { challengeId: 'c1', acceptorId: 'bob' })).toMatchObject({
      ok: false,
      error: { code: 'CANNOT_ACCEPT_CHALLENGE' },
    });
    const alice = await player('alice');
    expect(alice.liveMatch).toBeNull();
    expect(alice.entries['e-alice']).toMatchObject({ status: 'searching', enqueuedAt: now });
    expect(await types(playerStream(tenant, 'alice'))).toEqual([
      'ChallengeSent',
      'QueueJoined',
      'ChallengeMatchClaimed',
      'ChallengeMatchReleased',
    ]);
  });

  it('a cancel that lands between the claims and the commit wins; both players are released', async () => {
    await issue('c1');
    await joinQueue('bob', 'e-bob');
    let cancelled = false;
    const racing: EventStore = {
      ...store,
      readStream: (name, options) => store.readStream(name, options),
      appendToStream: async (name, events, options) => {
        if (!cancelled && events[0]?.type === 'ChallengeAccepted') {
          cancelled = true;
          await endChallenge(
            { store, metadata, now },
            { type: 'CancelChallenge', challengeId: 'c1', userId: 'alice', reason: 'challenger', now },
          );
        }
        return store.appendToStream(name, events, options);
      },
    };
    expect(
      await acceptChallenge({ ...context, store: racing }, { challengeId: 'c1', acceptorId: 'bob' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'INVALID_CHALLENGE_STATE' },
    });
    expect(await types(challengeStream('c1'))).toEqual(['ChallengeIssued', 'ChallengeCancelled']);
    expect(await types(matchStream('c1'))).toEqual([]);
    const bob = await player('bob');
    expect(bob.liveMatch).toBeNull();
    expect(bob.entries['e-bob']?.status).toBe('searching');
    expect((await player('alice')).liveMatch).toBeNull();
  });

  it('recoverChallengeMatch releases players reserved by an accept that never committed', async () => {
    await issue('c1');
    for (const [userId, role, opponentId] of [
      ['alice', 'challenger', 'bob'],
      ['bob', 'opponent', 'alice'],
    ] as const)
      await onPlayer(userId, {
        type: 'ClaimForChallenge',
        userId,
        challengeId: 'c1',
        matchId: 'c1',
        role,
        opponentId,
        now,
      });
    expect(await recoverChallengeMatch(context, 'c1')).toEqual({ ok: true, outcome: 'released' });
    expect((await player('alice')).liveMatch).toBeNull();
    expect((await player('bob')).liveMatch).toBeNull();
  });
});

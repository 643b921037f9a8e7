import { type ChallengeColour, challengeStream, type GameMode, playerStream } from '@mm/contracts';
import type { EventMetadata, EventStore } from '@mm/event-store';
import { type ChallengeCommand, challengeDecider } from '../challenge/challenge-decider.js';
import { handleCommand } from '../command-handling/handle-command.js';
import type { DomainError } from '../errors/domain-error.js';
import { playerDecider } from '../player/player-decider.js';

export interface ChallengeLifecycleContext {
  store: EventStore;
  metadata: EventMetadata;
  now: string;
}

type Result = { ok: true } | { ok: false; error: DomainError };

/**
 * Issuing: 1. the challenger's player stream takes the slot (`ChallengeSent`; the cap and
 * "replace the pending challenge to the same opponent" are decided there, serialised by
 * its expected revision); 2. `ChallengeIssued` on the new challenge stream; 3. replaced
 * challenges get `ChallengeCancelled {replaced}`. If 2 never happens (crash), the slot
 * frees itself at `expiresAt`. If 3 is lost, the old challenge can still not be accepted:
 * its slot is settled, so the challenger-side claim of the accept flow refuses it.
 */
export const issueChallenge = async (
  context: ChallengeLifecycleContext,
  input: {
    challengeId: string;
    challengerId: string;
    opponentId: string;
    timeControl: string;
    mode: GameMode;
    colour: ChallengeColour;
    message: string | null;
    expiresAt: string;
    maxPendingChallenges: number;
  },
): Promise<Result> => {
  const { store, metadata, now } = context;
  const sent = await handleCommand({
    store,
    streamName: playerStream(metadata.tenantId, input.challengerId),
    decider: playerDecider,
    command: {
      type: 'SendChallenge',
      userId: input.challengerId,
      challengeId: input.challengeId,
      opponentId: input.opponentId,
      timeControl: input.timeControl,
      mode: input.mode,
      expiresAt: input.expiresAt,
      maxPendingChallenges: input.maxPendingChallenges,
      now,
    },
    metadata,
  });
  if (!sent.ok) return sent;

  const issued = await handleCommand({
    store,
    streamName: challengeStream(input.challengeId),
    decider: challengeDecider,
    command: { type: 'IssueChallenge', ...input, now },
    metadata,
  });
  if (!issued.ok) return issued;

  for (const event of sent.events) {
    if (event.type !== 'ChallengeSettled') continue;
    const replacedId = (event.data as { challengeId: string }).challengeId;
    await handleCommand({
      store,
      streamName: challengeStream(replacedId),
      decider: challengeDecider,
      command: {
        type: 'CancelChallenge',
        challengeId: replacedId,
        userId: input.challengerId,
        reason: 'replaced',
        now,
      },
      metadata,
    });
  }
  return { ok: true };
};

/**
 * Decline, cancel or expire: the challenge stream decides, then the challenger's slot is
 * settled. A lost settlement only keeps the slot busy until `expiresAt`.
 */
export const endChallenge = async (
  context: ChallengeLifecycleContext,
  command: Extract<ChallengeCommand, { type: 'DeclineChallenge' | 'CancelChallenge' | 'ExpireChallenge' }>,
): Promise<Result> => {
  const { store, metadata, now } = context;
  const ended = await handleCommand({
    store,
    streamName: challengeStream(command.challengeId),
    decider: challengeDecider,
    command,
    metadata,
  });
  if (!ended.ok) return ended;
  const challenge = ended.state.challenge;
  if (!challenge) return { ok: true };
  const outcome = ({ declined: 'declined', cancelled: 'cancelled', expired: 'expired' } as const)[
    ended.state.status as 'declined' | 'cancelled' | 'expired'
  ];
  if (!outcome) return { ok: true };
  const settled = await handleCommand({
    store,
    streamName: playerStream(metadata.tenantId, challenge.challengerId),
    decider: playerDecider,
    command: {
      type: 'SettleChallenge',
      userId: challenge.challengerId,
      challengeId: challenge.challengeId,
      outcome,
      now,
    },
    metadata,
  });
  return settled.ok ? { ok: true } : settled;
};

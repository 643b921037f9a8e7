import {
  type ChallengeColour,
  type ChallengeEvent,
  type ChallengeIssuedData,
  type DeclineReason,
  type GameMode,
  type MatchCreatedData,
  makePool,
} from '@mm/contracts';
import { accept, type DecideResult, type Decider, nothing, reject } from '../decider/decider.js';
import { challengerColour } from './challenge-colour.js';

export type ChallengeStatus = 'none' | 'pending' | 'accepted' | 'declined' | 'cancelled' | 'expired';

export interface ChallengeState {
  status: ChallengeStatus;
  challenge: ChallengeIssuedData | null;
  matchId: string | null;
  declineReason: DeclineReason | null;
  /** When the challenge left `pending`. */
  settledAt: string | null;
}

export interface IssueChallenge {
  type: 'IssueChallenge';
  challengeId: string;
  challengerId: string;
  opponentId: string;
  timeControl: string;
  mode: GameMode;
  colour: ChallengeColour;
  message: string | null;
  expiresAt: string;
  now: string;
}

export interface AcceptChallenge {
  type: 'AcceptChallenge';
  challengeId: string;
  /** Who is accepting (must be the opponent). */
  userId: string;
  matchId: string;
  now: string;
}

export interface DeclineChallenge {
  type: 'DeclineChallenge';
  challengeId: string;
  userId: string;
  reason: DeclineReason;
  now: string;
}

export interface CancelChallenge {
  type: 'CancelChallenge';
  challengeId: string;
  userId: string;
  reason: 'challenger' | 'replaced';
  now: string;
}

export interface ExpireChallenge {
  type: 'ExpireChallenge';
  challengeId: string;
  now: string;
}

export type ChallengeCommand = IssueChallenge | AcceptChallenge | DeclineChallenge | CancelChallenge | ExpireChallenge;

type Result = DecideResult<ChallengeEvent>;

export const initialChallengeState = (): ChallengeState => ({
  status: 'none',
  challenge: null,
  matchId: null,
  declineReason: null,
  settledAt: null,
});

const isExpiredAt = (challenge: ChallengeIssuedData, now: string) => Date.parse(now) >= Date.parse(challenge.expiresAt);

/**
 * Status as seen at `now`: a pending challenge past its expiry is expired even if the
 * `ChallengeExpired` event has not been written yet.
 */
export const challengeStatusAt = (state: ChallengeState, now: string): ChallengeStatus =>
  state.status === 'pending' && state.challenge && isExpiredAt(state.challenge, now) ? 'expired' : state.status;

/**
 * Who may act: strangers learn nothing (404, as if the challenge did not exist); the
 * other party gets 403.
 */
const authorise = (
  state: ChallengeState,
  challengeId: string,
  userId: string,
  allowed: 'challenger' | 'opponent',
): DecideResult<ChallengeEvent> | ChallengeIssuedData => {
  const challenge = state.challenge;
  if (!challenge || (userId !== challenge.challengerId && userId !== challenge.opponentId))
    return reject('CHALLENGE_NOT_FOUND', `challenge ${challengeId} not found`);
  const allowedId = allowed === 'challenger' ? challenge.challengerId : challenge.opponentId;
  if (userId !== allowedId) return reject('NOT_ALLOWED', `only the ${allowed} can do this to challenge ${challengeId}`);
  return challenge;
};

const notPending = (state: ChallengeState, challengeId: string, now: string): Result =>
  reject('INVALID_CHALLENGE_STATE', `challenge ${challengeId} is ${challengeStatusAt(state, now)}, not pending`);

export const decideChallenge = (command: ChallengeCommand, state: ChallengeState): Result => {
  switch (command.type) {
    case 'IssueChallenge': {
      if (command.challengerId === command.opponentId)
        return reject('CANNOT_CHALLENGE_SELF', 'you cannot challenge yourself');
      if (state.challenge) {
        if (state.challenge.challengerId === command.challengerId && state.challenge.opponentId === command.opponentId)
          return nothing();
        return reject('CHALLENGE_ALREADY_EXISTS', `challenge ${command.challengeId} already exists`);
      }
      return accept({
        type: 'ChallengeIssued',
        data: {
          challengeId: command.challengeId,
          challengerId: command.challengerId,
          opponentId: command.opponentId,
          timeControl: command.timeControl,
          mode: command.mode,
          challengerColour: command.colour,
          message: command.message,
          issuedAt: command.now,
          expiresAt: command.expiresAt,
        },
      });
    }
    case 'AcceptChallenge': {
      const challenge = authorise(state, command.challengeId, command.userId, 'opponent');
      if ('ok' in challenge) return challenge;
      // A retried accept of the same match is a no-op, so the accept flow can be re-run safely.
      if (state.status === 'accepted' && state.matchId === command.matchId) return nothing();
      if (challengeStatusAt(state, command.now) !== 'pending')
        return notPending(state, command.challengeId, command.now);
      return accept({
        type: 'ChallengeAccepted',
        data: { challengeId: command.challengeId, matchId: command.matchId, acceptedAt: command.now },
      });
    }
    case 'DeclineChallenge': {
      const challenge = authorise(state, command.challengeId, command.userId, 'opponent');
      if ('ok' in challenge) return challenge;
      if (challengeStatusAt(state, command.now) !== 'pending')
        return notPending(state, command.challengeId, command.now);
      return accept({
        type: 'ChallengeDeclined',
        data: { challengeId: command.challengeId, reason: command.reason, declinedAt: command.now },
      });
    }
    case 'CancelChallenge': {
      const challenge = authorise(state, command.challengeId, command.userId, 'challenger');
      if ('ok' in challenge) return challenge;
      if (challengeStatusAt(state, command.now) !== 'pending') {
        // Replacement is bookkeeping after a new send: if the old one already ended, there is nothing to do.
        if (command.reason === 'replaced') return nothing();
        return notPending(state, command.challengeId, command.now);
      }
      return accept({
        type: 'ChallengeCancelled',
        data: { challengeId: command.challengeId, reason: command.reason, cancelledAt: command.now },
      });
    }
    case 'ExpireChallenge': {
      if (state.status !== 'pending' || !state.challenge || !isExpiredAt(state.challenge, command.now))
        return nothing();
      return accept({ type: 'ChallengeExpired', data: { challengeId: command.challengeId, expiredAt: command.now } });
    }
  }
};

export const evolveChallenge = (state: ChallengeState, event: ChallengeEvent): ChallengeState => {
  switch (event.type) {
    case 'ChallengeIssued':
      return { ...state, status: 'pending', challenge: event.data };
    case 'ChallengeAccepted':
      return { ...state, status: 'accepted', matchId: event.data.matchId, settledAt: event.data.acceptedAt };
    case 'ChallengeDeclined':
      return { ...state, status: 'declined', declineReason: event.data.reason, settledAt: event.data.declinedAt };
    case 'ChallengeCancelled':
      return { ...state, status: 'cancelled', settledAt: event.data.cancelledAt };
    case 'ChallengeExpired':
      return { ...state, status: 'expired', settledAt: event.data.expiredAt };
    default:
      return state;
  }
};

/** The challenge stream's decider (stream `challenge-<challengeId>`). */
export const challengeDecider: Decider<ChallengeState, ChallengeCommand, ChallengeEvent> = {
  decide: decideChallenge,
  evolve: evolveChallenge,
  initialState: initialChallengeState,
};

/** The match of an accepted challenge uses the challenge's id, so every retry of the accept flow targets the same match. */
export const challengeMatchId = (challengeId: string): string => challengeId;

/**
 * The `MatchCreated` data for an accepted challenge: colours from the challenger's wish
 * (random = hash of the challenge id), wait = time from issue to accept.
 */
export const challengeMatchCreated = (
  challenge: ChallengeIssuedData,
  input: { matchId: string; challengerRating: number; opponentRating: number; now: string },
): MatchCreatedData => {
  const { colour, reason } = challengerColour(challenge.challengeId, challenge.challengerColour);
  const waitMs = Math.max(0, Date.parse(input.now) - Date.parse(challenge.issuedAt));
  const challenger = {
    userId: challenge.challengerId,
    queueEntryId: null,
    rating: input.challengerRating,
    window: null,
    waitMs,
  };
  const opponent = {
    userId: challenge.opponentId,
    queueEntryId: null,
    rating: input.opponentRating,
    window: null,
    waitMs,
  };
  return {
    matchId: input.matchId,
    source: 'challenge',
    challengeId: challenge.challengeId,
    pool: makePool(challenge.timeControl, challenge.mode),
    white: colour === 'white' ? challenger : opponent,
    black: colour === 'white' ? opponent : challenger,
    ratingGap: Math.abs(input.challengerRating - input.opponentRating),
    weight: null,
    algorithmVersion: null,
    colourReason: reason,
    decidedAt: input.now,
  };
};

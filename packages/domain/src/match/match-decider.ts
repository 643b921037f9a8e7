import type { MatchAbortedData, MatchCreatedData, MatchEvent } from '@mm/contracts';
import { accept, type DecideResult, type Decider, nothing, reject } from '../decider/decider.js';

export interface MatchState {
  status: 'none' | 'created' | 'game_created' | 'aborted';
  match: MatchCreatedData | null;
  gameId: string | null;
  abortReason: MatchAbortedData['reason'] | null;
}

export interface CreateMatch {
  type: 'CreateMatch';
  /** The full decision (pairing or accepted challenge), as it will be published. */
  match: MatchCreatedData;
}

export interface RecordGameCreated {
  type: 'RecordGameCreated';
  matchId: string;
  gameId: string;
  now: string;
}

export interface AbortMatch {
  type: 'AbortMatch';
  matchId: string;
  reason: MatchAbortedData['reason'];
  attempts: number;
  detail: string | null;
  now: string;
}

export type MatchCommand = CreateMatch | RecordGameCreated | AbortMatch;

type Result = DecideResult<MatchEvent>;

export const initialMatchState = (): MatchState => ({ status: 'none', match: null, gameId: null, abortReason: null });

const sameDecision = (a: MatchCreatedData, b: MatchCreatedData) =>
  a.matchId === b.matchId && a.white.userId === b.white.userId && a.black.userId === b.black.userId;

export const decideMatch = (command: MatchCommand, state: MatchState): Result => {
  switch (command.type) {
    case 'CreateMatch': {
      if (state.match) {
        // A worker retrying the same decision is fine; anything else reusing the id is a bug.
        if (sameDecision(state.match, command.match)) return nothing();
        return reject('MATCH_ALREADY_EXISTS', `match ${command.match.matchId} already exists`);
      }
      return accept({ type: 'MatchCreated', data: command.match });
    }
    case 'RecordGameCreated': {
      if (state.status === 'none') return reject('MATCH_NOT_FOUND', `match ${command.matchId} not found`);
      if (state.status === 'aborted')
        return reject('MATCH_ABORTED', `match ${command.matchId} was aborted; game ${command.gameId} is orphaned`);
      if (state.status === 'game_created') {
        if (state.gameId === command.gameId) return nothing();
        return reject('GAME_ALREADY_CREATED', `match ${command.matchId} already has game ${state.gameId}`);
      }
      return accept({
        type: 'GameCreated',
        data: { matchId: command.matchId, gameId: command.gameId, createdAt: command.now },
      });
    }
    case 'AbortMatch': {
      if (state.status === 'none') return reject('MATCH_NOT_FOUND', `match ${command.matchId} not found`);
      if (state.status === 'game_created')
        return reject('GAME_ALREADY_CREATED', `match ${command.matchId} already has game ${state.gameId}`);
      if (state.status === 'aborted') return nothing();
      return accept({
        type: 'MatchAborted',
        data: {
          matchId: command.matchId,
          reason: command.reason,
          attempts: command.attempts,
          detail: command.detail,
          abortedAt: command.now,
        },
      });
    }
  }
};

export const evolveMatch = (state: MatchState, event: MatchEvent): MatchState => {
  switch (event.type) {
    case 'MatchCreated':
      return { ...state, status: 'created', match: event.data };
    case 'GameCreated':
      return { ...state, status: 'game_created', gameId: event.data.gameId };
    case 'MatchAborted':
      return { ...state, status: 'aborted', abortReason: event.data.reason };
    default:
      return state;
  }
};

/** The match stream's decider (stream `match-<matchId>`): MatchCreated → GameCreated | MatchAborted (I5). */
export const matchDecider: Decider<MatchState, MatchCommand, MatchEvent> = {
  decide: decideMatch,
  evolve: evolveMatch,
  initialState: initialMatchState,
};

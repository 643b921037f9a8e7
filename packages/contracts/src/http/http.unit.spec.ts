import { describe, expect, it } from 'vitest';
import { ChallengeListResponse, CreateChallengeRequest, DeclineChallengeRequest } from './challenges.js';
import { Problem } from './problem.js';
import { ActiveMatchmakingResponse, JoinQueueRequest, QueueEntryResponse } from './queue.js';

describe('JoinQueueRequest', () => {
  it('accepts the documented shape', () => {
    expect(
      JoinQueueRequest.parse({ time_control: '3+2', mode: 'rated', rating_range: { min: 1200, max: 1800 } }),
    ).toEqual({
      time_control: '3+2',
      mode: 'rated',
      rating_range: { min: 1200, max: 1800 },
    });
    expect(JoinQueueRequest.safeParse({ time_control: '3+2', mode: 'casual' }).success).toBe(true);
  });

  it.each([
    [{ time_control: '3+2', mode: 'rated', pool: 'x' }, 'unknown key'],
    [{ time_control: '3+2', mode: 'rated', rating_range: { min: 1, extra: 2 } }, 'unknown key in range'],
    [{ time_control: '3+2', mode: 'rated', rating_range: { min: 1900, max: 1800 } }, 'min > max'],
    [{ time_control: '3+2', mode: 'rated', rating_range: { min: 1.5 } }, 'non-integer'],
    [{ time_control: '3', mode: 'rated' }, 'bad time control'],
    [{ time_control: '3+2', mode: 'blitz' }, 'bad mode'],
    [{ mode: 'rated' }, 'missing time control'],
  ] as [unknown, string][])('rejects %j (%s)', (body) => {
    expect(JoinQueueRequest.safeParse(body).success).toBe(false);
  });
});

describe('responses', () => {
  const entry = {
    queue_entry_id: 'e1',
    status: 'SEARCHING',
    pool: { key: '3+0:rated', time_control: '3+0', mode: 'rated' },
    rating: 1500,
    rating_range: null,
    enqueued_at: '2026-01-01T10:00:00.000Z',
    time_in_queue_seconds: 12.5,
    rating_window: { low: 1400, high: 1600 },
    position_estimate: 1,
    estimated_wait_seconds: null,
    match_id: null,
    game_id: null,
    colour: null,
    opponent_id: null,
    ended_at: null,
  };

  it('QueueEntryResponse and ActiveMatchmakingResponse', () => {
    expect(QueueEntryResponse.parse(entry)).toEqual(entry);
    expect(QueueEntryResponse.safeParse({ ...entry, status: 'PENDING' }).success).toBe(false);
    const active = {
      queue_entry: null,
      match: { match_id: 'm1', game_id: null, colour: 'white', opponent_id: 'u2', status: 'CREATING_GAME' },
    };
    expect(ActiveMatchmakingResponse.parse(active)).toEqual(active);
  });

  it('challenge requests', () => {
    expect(
      CreateChallengeRequest.safeParse({ opponent_id: 'u2', time_control: '5+3', mode: 'rated', color: 'random' })
        .success,
    ).toBe(true);
    expect(
      CreateChallengeRequest.safeParse({
        opponent_id: 'u2',
        time_control: '5+3',
        mode: 'rated',
        color: 'random',
        message: 'x'.repeat(281),
      }).success,
    ).toBe(false);
    expect(DeclineChallengeRequest.parse({})).toEqual({});
    expect(DeclineChallengeRequest.safeParse({ reason: 'bored' }).success).toBe(false);
    expect(ChallengeListResponse.parse({ items: [], next_cursor: null })).toEqual({ items: [], next_cursor: null });
  });

  it('Problem', () => {
    const problem = {
      type: 'about:blank',
      title: 'Conflict',
      status: 409,
      detail: 'already in queue',
      code: 'ALREADY_IN_QUEUE',
    };
    expect(Problem.parse(problem)).toEqual(problem);
    expect(Problem.safeParse({ ...problem, status: 200 }).success).toBe(false);
  });
});

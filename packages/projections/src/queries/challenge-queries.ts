import type pg from 'pg';
import { readModelTables } from '../postgres/read-model-handlers.js';

export interface ChallengeRow {
  tenantId: string;
  challengeId: string;
  challengerId: string;
  opponentId: string;
  timeControl: string;
  mode: 'rated' | 'casual';
  color: 'white' | 'black' | 'random';
  message: string | null;
  status: 'PENDING' | 'ACCEPTED' | 'DECLINED' | 'CANCELLED' | 'EXPIRED';
  declineReason: string | null;
  matchId: string | null;
  gameId: string | null;
  createdAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
}

/** Where a page of a list starts: strictly after this (created_at, challenge_id) in newest-first order. */
export interface ChallengeCursor {
  createdAt: string;
  challengeId: string;
}

export interface ChallengePage {
  items: ChallengeRow[];
  /** Position of the last item when there may be more; null on the last page. */
  next: ChallengeCursor | null;
}

const columns = `tenant_id AS "tenantId", challenge_id AS "challengeId", challenger_id AS "challengerId",
  opponent_id AS "opponentId", time_control AS "timeControl", mode, color, message, status,
  decline_reason AS "declineReason", match_id AS "matchId", game_id AS "gameId", created_at AS "createdAt",
  expires_at AS "expiresAt", ended_at AS "endedAt"`;

/** Reads of the `challenges` read model for the API and the challenge workers. Every API query is tenant-scoped. */
export function createChallengeQueries(pool: pg.Pool, schema: string) {
  const t = readModelTables(schema);

  /** Pending (and not yet due) challenges where `side` is the user, newest first, one page. */
  const pending = async (
    side: 'opponent_id' | 'challenger_id',
    input: { tenantId: string; userId: string; now: Date; limit: number; after?: ChallengeCursor | null },
  ): Promise<ChallengePage> => {
    const params: unknown[] = [input.tenantId, input.userId, input.now.toISOString(), input.limit + 1];
    let after = '';
    if (input.after) {
      params.push(input.after.createdAt, input.after.challengeId);
      after = `AND (created_at, challenge_id) < ($5::timestamptz, $6)`;
    }
    const { rows } = await pool.query<ChallengeRow>(
      `SELECT ${columns} FROM ${t.challenges}
       WHERE tenant_id = $1 AND ${side} = $2 AND status = 'PENDING' AND expires_at > $3::timestamptz ${after}
       ORDER BY created_at DESC, challenge_id DESC LIMIT $4`,
      params,
    );
    const items = rows.slice(0, input.limit);
    const last = items.at(-1);
    return {
      items,
      next:
        rows.length > input.limit && last
          ? { createdAt: last.createdAt.toISOString(), challengeId: last.challengeId }
          : null,
    };
  };

  return {
    async challenge(tenantId: string, challengeId: string): Promise<ChallengeRow | null> {
      const { rows } = await pool.query<ChallengeRow>(
        `SELECT ${columns} FROM ${t.challenges} WHERE tenant_id = $1 AND challenge_id = $2`,
        [tenantId, challengeId],
      );
      return rows[0] ?? null;
    },

    /** Challenges waiting for the user's answer. */
    incoming: (input: Parameters<typeof pending>[1]) => pending('opponent_id', input),

    /** The user's challenges still waiting for an answer. */
    outgoing: (input: Parameters<typeof pending>[1]) => pending('challenger_id', input),

    /**
     * Accepted challenges (any tenant) whose match is not in the read model although they
     * were accepted before `acceptedBefore`: an accept that stopped after its commit point.
     * The challenge workers complete them.
     */
    async acceptedWithoutMatch(
      acceptedBefore: Date,
      limit = 100,
    ): Promise<{ tenantId: string; challengeId: string }[]> {
      const { rows } = await pool.query<{ tenantId: string; challengeId: string }>(
        `SELECT c.tenant_id AS "tenantId", c.challenge_id AS "challengeId" FROM ${t.challenges} c
         LEFT JOIN ${t.matches} m ON m.tenant_id = c.tenant_id AND m.match_id = c.match_id
         WHERE c.status = 'ACCEPTED' AND m.match_id IS NULL AND c.ended_at < $1::timestamptz
         ORDER BY c.ended_at LIMIT $2`,
        [acceptedBefore.toISOString(), limit],
      );
      return rows;
    },
  };
}

export type ChallengeQueries = ReturnType<typeof createChallengeQueries>;

import { pairingSettings } from '@mm/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MatchmakingClient } from './driver/matchmaking-client.js';
import { mapLimit, runPaced, seeded, sleep } from './driver/pacing.js';
import { waitUntilSettled } from './driver/settle.js';
import { type Stack, startStack } from './stack/stack.js';
import { auditSettled, entryOutcomes } from './verify.js';

/*
 * The end-to-end test: the real apps as separate processes (API, projector, two
 * workers, live-game-sim failing 20 % of game creations plus lost replies, hangs and
 * refusals), 2,000 players over HTTP across 4 pools in 2 tenants, 20 % random cancels —
 * then the whole log must pass the audit of I1–I5 and the API must show every game.
 */
const PLAYERS = 2000;
const JOINS_PER_SECOND = 45; // ≈ 45 s of joins: the whole test stays within ~3 min on 2 cores
const POOLS = [
  { tenantId: 'e2e-t1', timeControl: '3+0', mode: 'rated' },
  { tenantId: 'e2e-t1', timeControl: '5+0', mode: 'casual' },
  { tenantId: 'e2e-t2', timeControl: '3+0', mode: 'rated' },
  { tenantId: 'e2e-t2', timeControl: '10+0', mode: 'rated' },
] as const;

describe('matchmaking end to end: 2 workers, 2,000 players, 20 % cancels, 20 % failing game creation', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      workers: 2,
      label: 'e2e_main',
      env: { RATING_WINDOW_WIDENING_INTERVAL: '2', WORKER_INTERVAL_SECONDS: '1' },
      simEnv: {
        SIM_ERROR_RATE: '0.2',
        SIM_DUPLICATE_RATE: '0.05',
        SIM_TIMEOUT_RATE: '0.02',
        SIM_REJECT_RATE: '0.01',
        SIM_LATENCY_MS: '2',
        SIM_LATENCY_JITTER_MS: '10',
        SIM_SEED: 'e2e-main',
      },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('settles with a log that passes the audit, and the API shows every match and game', async () => {
    const client = new MatchmakingClient(stack.apiUrl);
    const random = seeded(20_000);
    const joined: { tenantId: string; userId: string; queueEntryId: string }[] = [];
    const cancels = { ok: [] as string[], refused: [] as string[], other: [] as number[] };
    const joinFailures: number[] = [];
    const pending: Promise<void>[] = [];

    const joinOnce = async (tenantId: string, userId: string, pool: (typeof POOLS)[number], allowRejoin: boolean) => {
      const res = await client.join(tenantId, userId, pool.timeControl, pool.mode);
      if (res.status !== 201) {
        joinFailures.push(res.status);
        return;
      }
      const queueEntryId = res.body.queue_entry_id as string;
      joined.push({ tenantId, userId, queueEntryId });
      if (random() >= 0.2) return;
      // 20 % cancel after a random wait (some are matched first: 409 is the right answer then).
      const delay = random() * 400;
      const rejoin = allowRejoin && random() < 0.25;
      pending.push(
        (async () => {
          await sleep(delay);
          const cancel = await client.cancel(tenantId, userId, queueEntryId);
          if (cancel.status === 200) cancels.ok.push(queueEntryId);
          else if (cancel.status === 409) cancels.refused.push(queueEntryId);
          else cancels.other.push(cancel.status);
          if (cancel.status === 200 && rejoin) await joinOnce(tenantId, userId, pool, false);
        })(),
      );
    };

    const started = Date.now();
    await runPaced(PLAYERS, JOINS_PER_SECOND, 16, async (i) => {
      const pool = POOLS[i % POOLS.length]!;
      // The same user ids exist in both tenants: they are different people (tenant isolation).
      const userId = `u${Math.floor(i / POOLS.length)}-${i % 2}`;
      await joinOnce(pool.tenantId, userId, pool, true);
    });
    await Promise.all(pending);
    await Promise.all(pending); // rejoins started by the first round
    const joinSeconds = (Date.now() - started) / 1000;
    process.stderr.write(`e2e: ${joined.length} joins in ${joinSeconds.toFixed(1)} s; waiting to settle…\n`);

    const policy = pairingSettings(stack.config);
    const settle = await waitUntilSettled(() => stack.readAll(), policy, {
      timeoutMs: 90_000,
      pollMs: 1500,
      onProgress: (state) => process.stderr.write(`e2e: settling ${JSON.stringify(state)}\n`),
    });
    if (!settle.settled) stack.fail();
    expect(settle.settled, `not settled: ${JSON.stringify(settle.last)}`).toBe(true);

    const events = settle.events;
    const audit = auditSettled(events, policy);
    if (!audit.ok) stack.fail();
    expect(audit.violations, audit.report).toEqual([]);
    expect(joinFailures).toEqual([]);
    expect(cancels.other).toEqual([]);
    expect(joined.length).toBeGreaterThanOrEqual(PLAYERS);
    expect(audit.stats.queueEntries).toBe(joined.length);
    expect(audit.stats.gamesCreated).toBeGreaterThan(PLAYERS * 0.3);
    // ~20 % of joins try to cancel; many lose the race to an immediate match (409), which is correct.
    expect(cancels.ok.length + cancels.refused.length).toBeGreaterThan(PLAYERS * 0.15);
    expect(cancels.ok.length).toBeGreaterThan(0);

    // The client's view agrees with the log: a 200 cancel never got a game; a 409 cancel did get matched.
    const outcomes = entryOutcomes(events);
    for (const id of cancels.ok) expect(outcomes.get(id)).toMatchObject({ cancelled: true, gameId: null });
    for (const id of cancels.refused) expect(outcomes.get(id)?.cancelled).toBe(false);

    // The faults really happened, and idempotency held: one game per match in live-game-sim.
    const sim = (await (await fetch(`${stack.simUrl}/internal/sim/stats`)).json()) as {
      create_calls_by_fault: Record<string, number>;
    };
    expect(sim.create_calls_by_fault.error).toBeGreaterThan(0);
    expect(sim.create_calls_by_fault.duplicate).toBeGreaterThan(0);
    const simGames = (await (await fetch(`${stack.simUrl}/internal/games`)).json()) as {
      games: { game_id: string; metadata: { match_id: string } }[];
    };
    const gamesByMatch = new Map<string, string[]>();
    for (const g of simGames.games)
      gamesByMatch.set(g.metadata.match_id, [...(gamesByMatch.get(g.metadata.match_id) ?? []), g.game_id]);
    for (const [matchId, ids] of gamesByMatch) expect(ids, `games of match ${matchId}`).toHaveLength(1);
    const started_ = [...outcomes.values()].filter((o) => o.gameId !== null);
    for (const o of started_) expect(gamesByMatch.get(o.matchId!)).toEqual([o.gameId]);

    // Over HTTP (read model): every matched entry shows MATCHED with its match, colour and game.
    const mismatches: string[] = [];
    const deadline = Date.now() + 30_000;
    let todo = started_;
    while (todo.length > 0 && Date.now() < deadline) {
      const views = await mapLimit(todo, 16, async (o) => ({
        o,
        res: await client.entry(o.tenantId, o.userId, o.queueEntryId),
      }));
      todo = views
        .filter(
          ({ o, res }) =>
            res.status !== 200 ||
            res.body.status !== 'MATCHED' ||
            res.body.match_id !== o.matchId ||
            res.body.game_id !== o.gameId ||
            res.body.colour !== o.colour,
        )
        .map(({ o }) => o);
      if (todo.length > 0) await sleep(500);
    }
    for (const o of todo.slice(0, 5)) mismatches.push(JSON.stringify(o));
    expect(mismatches).toEqual([]);

    console.info(
      `e2e: ${joined.length} joins in ${joinSeconds.toFixed(1)} s, settled after ${(settle.waitedMs / 1000).toFixed(1)} s; ` +
        `${audit.stats.matches} matches, ${audit.stats.gamesCreated} games, ${audit.stats.matchesAborted} aborted, ` +
        `${cancels.ok.length} cancels (${cancels.refused.length} refused: already matched), ` +
        `${audit.stats.searchingAtEnd} still searching (no compatible opponent); sim faults ${JSON.stringify(sim.create_calls_by_fault)}`,
    );
  }, 240_000);
});

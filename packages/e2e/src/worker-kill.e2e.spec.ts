import { pairingSettings } from '@mm/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MatchmakingClient } from './driver/matchmaking-client.js';
import { runPaced, sleep } from './driver/pacing.js';
import { waitUntilSettled } from './driver/settle.js';
import { type Stack, startStack } from './stack/stack.js';
import { auditSettled, entryOutcomes } from './verify.js';

/*
 * A pairing worker is SIGKILLed while it commits a big pass (claims on player streams,
 * MatchCreated, game-creation jobs), then a new one starts. Afterwards no pair may be lost
 * or duplicated: the audit passes, every player (all mutually compatible) got exactly one
 * game, no entry is in two matches.
 */
const PLAYERS = 400;
const TENANT = 'kill-t1';

describe('a pairing worker killed mid-pass', () => {
  let stack: Stack;
  beforeAll(async () => {
    // worker-1 only creates games and ticks (widening, recovery sweep); pairing workers are
    // added later, so the pass under the kill is known to run in the process we kill.
    stack = await startStack({
      workers: 1,
      workerRoles: ['game-creation,scheduler'],
      label: 'e2e_kill',
      env: { MATCH_PAIRS_PER_BATCH: '1000', WORKER_INTERVAL_SECONDS: '1' },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('loses and duplicates no pair after a restart', async () => {
    const client = new MatchmakingClient(stack.apiUrl);
    // Ratings 1450–1549: everyone accepts everyone at once, so every player must end in a game.
    const users = Array.from({ length: PLAYERS }, (_, i) => `k${i}_r${1450 + (i % 100)}`);
    const failures: number[] = [];
    await runPaced(PLAYERS, 100, 16, async (i) => {
      const res = await client.join(TENANT, users[i]!, '3+0', 'rated');
      if (res.status !== 201) failures.push(res.status);
    });
    expect(failures).toEqual([]);
    await sleep(1500); // let the projector put them all in the pool's view

    const countOf = async (type: string) => (await stack.readAll({ eventTypes: [type] })).length;
    expect(await countOf('QueueEntryMatched')).toBe(0);

    const victim = await stack.addWorker('pairing');
    const deadline = Date.now() + 60_000;
    let claimsAtKill = 0;
    while (Date.now() < deadline) {
      claimsAtKill = await countOf('QueueEntryMatched');
      if (claimsAtKill >= 10) break;
      await sleep(10);
    }
    await victim.kill();
    const matchesAtKill = await countOf('MatchCreated');
    const claimsAfterKill = await countOf('QueueEntryMatched');
    process.stderr.write(
      `kill: SIGKILLed ${victim.name} (pid ${victim.pid}) after ${claimsAtKill} claims; ${claimsAfterKill} claims / ${matchesAtKill} matches written by then\n`,
    );
    if (claimsAtKill < 10) stack.fail();
    expect(claimsAtKill).toBeGreaterThanOrEqual(10);
    // Mid-pass: the pass had not committed every pair when it died.
    expect(matchesAtKill).toBeLessThan(PLAYERS / 2);

    await stack.addWorker('pairing');
    await stack.addWorker('pairing');
    const policy = pairingSettings(stack.config);
    const settle = await waitUntilSettled(() => stack.readAll(), policy, { timeoutMs: 90_000, pollMs: 1000 });
    if (!settle.settled) stack.fail();
    expect(settle.settled, `not settled: ${JSON.stringify(settle.last)}`).toBe(true);

    const audit = auditSettled(settle.events, policy);
    if (!audit.ok) stack.fail();
    expect(audit.violations, audit.report).toEqual([]);

    // Nobody lost: every player got exactly one game; nobody duplicated: one entry, one match, one game.
    const outcomes = [...entryOutcomes(settle.events).values()];
    expect(outcomes).toHaveLength(PLAYERS);
    expect(outcomes.filter((o) => o.gameId === null)).toEqual([]);
    const perMatch = new Map<string, number>();
    for (const o of outcomes) perMatch.set(o.matchId!, (perMatch.get(o.matchId!) ?? 0) + 1);
    expect([...perMatch.values()].every((n) => n === 2)).toBe(true);
    expect(perMatch.size).toBe(PLAYERS / 2);
    expect(audit.stats.gamesCreated).toBe(PLAYERS / 2);
    process.stderr.write(
      `kill: settled after ${(settle.waitedMs / 1000).toFixed(1)} s; ${audit.stats.matches} matches (${audit.stats.matchesAborted} aborted), ${audit.stats.releases} releases, ${audit.stats.gamesCreated} games\n`,
    );
  }, 200_000);
});

import { pairingSettings } from '@mm/config';
import { makePool } from '@mm/contracts';
import { bullPrefix, PAIRING_QUEUE } from '@mm/redis';
import { createTestRedis } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MatchmakingClient } from './driver/matchmaking-client.js';
import { runPaced, sleep } from './driver/pacing.js';
import { waitUntilSettled } from './driver/settle.js';
import type { ServiceProcess } from './stack/service-process.js';
import { type Stack, startStack } from './stack/stack.js';
import { auditSettled, entryOutcomes } from './verify.js';

/*
 * Issue 17: under load, the worker process that is running a pool's pairing job is SIGKILLed.
 * The pool's job is deduplicated, so until BullMQ takes it back from the dead process (stalled)
 * no other pass can run on the pool. Measured: from the kill to the first MatchCreated of two
 * players who both joined after the kill (the pool's resume time), and from the kill until every
 * match decided before it has its game (game creation jobs the dead process held come back as
 * stalled too). Workers run every role, as apps/worker does by default.
 */
const TENANT = 'resume-t1';
const POOL = makePool('3+0', 'rated');
const RATE = 30; // joins per second, all mutually compatible (rating 1500)
const PLAYERS = 300; // 10 s of load
const KILL_AFTER_MS = 3_000;

/** The pool's pairing job if it is running: its id and the worker name (`host:pid`) running it. */
const ACTIVE_POOL_JOB = `
local id = redis.call('GET', KEYS[1])
if not id then return false end
if not redis.call('LPOS', KEYS[2], id) then return false end
return {id, redis.call('HGET', ARGV[1] .. id, 'pb') or ''}
`;

describe('a worker killed while it runs a pool’s pairing job', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      workers: 3,
      label: 'e2e_resume',
      env: { WORKER_INTERVAL_SECONDS: '1' },
      // Game creation takes a while, so the killed process holds some of those jobs too.
      simEnv: { SIM_LATENCY_MS: '300' },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('has the pool pairing again within 5 s and every game created within 5 s', async () => {
    const redis = createTestRedis();
    const bull = `${bullPrefix(stack.redisPrefix, PAIRING_QUEUE)}:${PAIRING_QUEUE}:`;
    const keys = [`${bull}de:${JSON.stringify([TENANT, POOL.key])}`, `${bull}active`];
    const activeJob = async () => (await redis.eval(ACTIVE_POOL_JOB, 2, ...keys, bull)) as [string, string] | null;
    const holder = (name: string) => stack.workers.find((w) => w.running && name.endsWith(`:${w.pid}`));

    const client = new MatchmakingClient(stack.apiUrl);
    const joinedAt: number[] = [];
    const failures: number[] = [];
    let kill: { at: number; worker: ServiceProcess; jobId: string; attempts: number } | null = null;
    try {
      const load = runPaced(PLAYERS, RATE, 16, async (i) => {
        joinedAt[i] = Date.now();
        const res = await client.join(TENANT, `p${i}_r1500`, '3+0', 'rated');
        if (res.status !== 201) failures.push(res.status);
      });

      // Kill the process running the pool's job. A kill that lands just after the job finished
      // has not blocked the pool: try again on another process (one always survives).
      await sleep(KILL_AFTER_MS);
      for (let attempt = 1; attempt <= 2 && !kill; attempt++) {
        const deadline = Date.now() + 3_000;
        while (Date.now() < deadline) {
          const job = await activeJob();
          const worker = job && holder(job[1]);
          if (!job || !worker) continue;
          const at = Date.now();
          await worker.kill();
          // Still active after the process is gone: the dead process held it.
          const after = await activeJob();
          if (after?.[0] === job[0] && after[1] === job[1]) kill = { at, worker, jobId: job[0], attempts: attempt };
          break;
        }
      }
      await load;
    } finally {
      redis.disconnect();
    }
    expect(failures).toEqual([]);
    if (!kill) stack.fail();
    expect(kill, 'no kill landed while a worker ran the pool job').not.toBeNull();
    const { at: killedAt } = kill!;

    const policy = pairingSettings(stack.config);
    const settle = await waitUntilSettled(() => stack.readAll(), policy, { timeoutMs: 30_000, pollMs: 500 });
    if (!settle.settled) stack.fail();
    expect(settle.settled, `not settled: ${JSON.stringify(settle.last)}`).toBe(true);
    const audit = auditSettled(settle.events, policy);
    if (!audit.ok) stack.fail();
    expect(audit.violations, audit.report).toEqual([]);
    const outcomes = [...entryOutcomes(settle.events).values()];
    expect(outcomes).toHaveLength(PLAYERS);
    expect(outcomes.filter((o) => o.gameId === null)).toEqual([]);

    // Pool resume: the first match of two players who both joined after the kill.
    const joinedAfterKill = (userId: string) => (joinedAt[Number(/^p(\d+)_/.exec(userId)?.[1])] ?? 0) > killedAt;
    const matches = settle.events.filter((e) => e.type === 'MatchCreated');
    // biome-ignore lint/suspicious/noExplicitAny: event data read loosely
    const players = (e: (typeof matches)[number]) => [(e.data as any).white.userId, (e.data as any).black.userId];
    const firstAfter = matches.find((m) => players(m).every(joinedAfterKill));
    expect(firstAfter).toBeDefined();
    const resumeMs = firstAfter!.recordedAt.getTime() - killedAt;
    // The first pass after the kill (any players; the dead process's last commit may land a few ms late).
    const passedMs = matches.find((m) => m.recordedAt.getTime() > killedAt + 100)!.recordedAt.getTime() - killedAt;

    // Game creation: every match decided before the kill has its game — when did the last one come?
    const games = new Map(
      settle.events
        .filter((e) => e.type === 'GameCreated')
        .map((e) => [(e.data as { matchId: string }).matchId, e.recordedAt.getTime()]),
    );
    const before = matches.filter((m) => m.recordedAt.getTime() <= killedAt);
    const lastGameMs = Math.max(
      0,
      ...before.map((m) => games.get((m.data as { matchId: string }).matchId)! - killedAt),
    );

    process.stderr.write(
      `pool resume: SIGKILLed ${kill!.worker.name} (pid ${kill!.worker.pid}) holding pairing job ${kill!.jobId} (attempt ${kill!.attempts}); ` +
        `first match after it ${passedMs} ms, first match of players who joined after it ${resumeMs} ms after it; ` +
        `last game of the ${before.length} matches decided before the kill ${lastGameMs} ms after it; ` +
        `${audit.stats.matches} matches, ${audit.stats.gamesCreated} games\n`,
    );
    expect(resumeMs).toBeLessThanOrEqual(5_000);
    expect(lastGameMs).toBeLessThanOrEqual(5_000);
  }, 120_000);
});

import { pairingSettings } from '@mm/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MatchmakingClient } from './driver/matchmaking-client.js';
import { runPaced, sleep } from './driver/pacing.js';
import { waitUntilSettled } from './driver/settle.js';
import { type Stack, startStack } from './stack/stack.js';
import { auditSettled } from './verify.js';

/*
 * Two projector processes: one leads, the other stands by. The leader is SIGKILLed under load;
 * the standby must take over (its PostgreSQL session lock is freed with the dead session) and
 * pairing must go on — the projector is what signals pools, so without a standby every pool
 * would wait for a restart. Afterwards the log is settled and clean.
 */
const TENANT = 'standby-t1';
const RATE = 30;
const SECONDS = 8;

describe('a hot standby projector', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ projectors: 2, label: 'e2e_standby', logLevel: 'warn' });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('takes over within seconds when the leader dies, and pairing goes on', async () => {
    const [leader, standby] = stack.projectors as [Stack['projector'], Stack['projector']];
    expect(standby.log()).toMatch(/"msg":"projector standby/);
    const client = new MatchmakingClient(stack.apiUrl);
    let killedAt = 0;
    const failures: number[] = [];
    await runPaced(
      RATE * SECONDS,
      RATE,
      32,
      async (i) => {
        const res = await client.join(TENANT, `s${i}_r${1450 + (i % 100)}`, '3+0', 'rated');
        if (res.status !== 201) failures.push(res.status);
      },
      (started) => {
        if (started === RATE * 3 && killedAt === 0) {
          killedAt = Date.now();
          void leader.kill();
        }
      },
    );
    expect(failures).toEqual([]);
    expect(killedAt).toBeGreaterThan(0);

    // The standby led: it logged it, and a match was decided from joins after the kill.
    const deadline = Date.now() + 20_000;
    while (!/"msg":"projector started/.test(standby.log()) && Date.now() < deadline) await sleep(100);
    expect(standby.log()).toMatch(/"msg":"projector started/);
    const policy = pairingSettings(stack.config);
    const settle = await waitUntilSettled(() => stack.readAll(), policy, { timeoutMs: 60_000, pollMs: 500 });
    if (!settle.settled) stack.fail();
    expect(settle.settled, JSON.stringify(settle.last)).toBe(true);
    const firstAfter = Math.min(
      ...settle.events
        .filter((e) => e.type === 'MatchCreated')
        .map((e) => Date.parse((e.data as { decidedAt: string }).decidedAt))
        .filter((at) => at > killedAt),
    );
    const resumeMs = firstAfter - killedAt;
    process.stderr.write(`standby projector: first match ${resumeMs} ms after the leader was killed\n`);
    expect(resumeMs).toBeLessThan(5000);
    const audit = auditSettled(settle.events, policy);
    if (!audit.ok) stack.fail();
    expect(audit.violations, audit.report).toEqual([]);
  }, 120_000);
});

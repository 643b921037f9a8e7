import type { HttpResult, MatchmakingClient } from './matchmaking-client.js';
import { runPaced, sleep } from './pacing.js';

/** The pools the benches spread their players over (the first `pools` of them). */
export const BENCH_TIME_CONTROLS = ['3+0', '5+0', '10+0', '1+0', '3+2', '5+3', '10+5', '15+10'] as const;

export interface JoinLoad {
  client: MatchmakingClient;
  tenantId: string;
  /** User ids are `<prefix><i>_r<rating>`: the prefix tells a phase's players apart. */
  prefix: string;
  count: number;
  ratePerSecond: number;
  maxInFlight: number;
  pools: number;
  /** Share of joined players who cancel after a random delay of up to 2 s. */
  cancelRate: number;
  /** Seeded uniform numbers in [0, 1). */
  random: () => number;
  onJoined?(result: HttpResult): void;
  /** A join that did not get its 201: the status, or `network/timeout`. */
  onRejected?(reason: string): void;
  onCancelled?(status: number | null): void;
}

/**
 * Open-loop joins at a fixed rate, every player compatible with every other in its pool from
 * the first moment (ratings 1450–1550), a share of them cancelling. Resolves when every join
 * has been answered, with the cancels still under way (`cancels` resolves when they are).
 */
export async function driveJoins(load: JoinLoad): Promise<{ cancels: Promise<void> }> {
  const cancels: Promise<void>[] = [];
  await runPaced(load.count, load.ratePerSecond, load.maxInFlight, async (i) => {
    const rating = 1450 + Math.floor(load.random() * 101);
    const userId = `${load.prefix}${i}_r${rating}`;
    const timeControl = BENCH_TIME_CONTROLS[i % Math.max(1, Math.min(BENCH_TIME_CONTROLS.length, load.pools))]!;
    const res = await load.client.join(load.tenantId, userId, timeControl, 'rated').catch(() => null);
    if (res?.status !== 201) {
      load.onRejected?.(res ? String(res.status) : 'network/timeout');
      return;
    }
    load.onJoined?.(res);
    if (load.random() < load.cancelRate) {
      const delay = load.random() * 2000;
      cancels.push(
        sleep(delay).then(async () => {
          const cancel = await load.client.cancel(load.tenantId, userId, res.body.queue_entry_id).catch(() => null);
          load.onCancelled?.(cancel?.status ?? null);
        }),
      );
    }
  });
  return { cancels: Promise.all(cancels).then(() => undefined) };
}

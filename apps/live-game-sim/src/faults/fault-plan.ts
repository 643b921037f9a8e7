import type { Random } from '@mm/testing/random';

/** What happens to one create call. */
export type CreateFault = 'none' | 'reject' | 'error' | 'timeout' | 'duplicate';

export interface FaultRates {
  /** 422, nothing created, permanent. */
  reject: number;
  /** 503, nothing created. */
  error: number;
  /** The game is created, then the reply hangs past the caller's timeout. */
  timeout: number;
  /** The game is created but the reply is lost (500). */
  duplicate: number;
}

export interface FaultPlan {
  /** Draws the fate of one create call. */
  nextCreateFault(): CreateFault;
  /** Latency to add to an answer, in ms. */
  nextLatencyMs(): number;
  /** How many calls got each fate so far. */
  counts(): Record<CreateFault, number>;
}

/**
 * Fault injection: one draw per create call against cumulative rates, so the fractions
 * hold whatever the order of calls (a retry that made no game yet draws again, like a real
 * flaky upstream; the app answers a key that made a game without drawing).
 */
export function createFaultPlan(
  rates: FaultRates,
  latency: { baseMs: number; jitterMs: number },
  random: Random,
): FaultPlan {
  const counts: Record<CreateFault, number> = { none: 0, reject: 0, error: 0, timeout: 0, duplicate: 0 };
  const order: [Exclude<CreateFault, 'none'>, number][] = [
    ['reject', rates.reject],
    ['error', rates.error],
    ['timeout', rates.timeout],
    ['duplicate', rates.duplicate],
  ];
  return {
    nextCreateFault() {
      const draw = random();
      let edge = 0;
      let fault: CreateFault = 'none';
      for (const [name, rate] of order) {
        edge += rate;
        if (draw < edge) {
          fault = name;
          break;
        }
      }
      counts[fault]++;
      return fault;
    },
    nextLatencyMs() {
      return latency.baseMs + (latency.jitterMs > 0 ? Math.floor(random() * (latency.jitterMs + 1)) : 0);
    },
    counts: () => ({ ...counts }),
  };
}

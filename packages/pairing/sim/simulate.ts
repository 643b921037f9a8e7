import type { Policy, Waiting } from './policies.js';
import type { Arrival } from './trace.js';

export interface Match {
  gap: number;
  /** Each side's wait in ms. */
  waits: [number, number];
}

export interface PolicyOutcome {
  policy: string;
  arrivals: number;
  matched: number;
  matches: Match[];
}

/**
 * Discrete-event run of one policy over a trace: arrivals, cancellations / time-outs, and passes
 * (on the policy's tick and, if it says so, right after an arrival). Deterministic.
 */
export function simulate(
  trace: readonly Arrival[],
  policy: Policy,
  durationSeconds: number,
  maxWaitSeconds: number,
): PolicyOutcome {
  const end = durationSeconds * 1000;
  const waiting = new Map<string, Waiting & { arrival: Arrival }>();
  const matches: Match[] = [];
  let matched = 0;
  let nextTick = policy.tickMs;
  let k = 0;
  const purge = (now: number) => {
    for (const [id, w] of waiting) {
      if (w.arrival.cancelAt <= now || w.arrival.at + maxWaitSeconds * 1000 <= now) waiting.delete(id);
    }
  };
  const pass = (now: number) => {
    purge(now);
    if (waiting.size < 2) {
      return;
    }
    const list = [...waiting.values()];
    for (const [a, b] of policy.pair(list, now)) {
      const wa = waiting.get(a)!;
      const wb = waiting.get(b)!;
      matches.push({
        gap: Math.abs(wa.arrival.rating - wb.arrival.rating),
        waits: [now - wa.arrival.at, now - wb.arrival.at],
      });
      matched += 2;
      waiting.delete(a);
      waiting.delete(b);
    }
  };
  for (;;) {
    const nextArrival = k < trace.length ? trace[k]!.at : Number.POSITIVE_INFINITY;
    const now = Math.min(nextArrival, nextTick);
    if (now > end || now === Number.POSITIVE_INFINITY) break;
    if (nextArrival <= nextTick) {
      const arrival = trace[k++]!;
      waiting.set(arrival.id, {
        arrival,
        missedWaves: 0,
        entry: { entryId: arrival.id, userId: arrival.id, rating: arrival.rating, enqueuedAt: arrival.at },
      });
      if (policy.passOnArrival(waiting.size)) pass(now);
    } else {
      pass(now);
      nextTick += policy.tickMs;
    }
  }
  return { policy: policy.name, arrivals: trace.length, matched, matches };
}

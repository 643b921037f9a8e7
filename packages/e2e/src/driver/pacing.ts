import { mulberry32 } from '@mm/testing/random';

/**
 * Runs `task(i)` for i in [0, count) started at `ratePerSecond` (open loop, like real
 * arrivals), never more than `maxInFlight` at once (then starts slip, which shows as a lower
 * accepted rate). Resolves when all have finished.
 */
export async function runPaced(
  count: number,
  ratePerSecond: number,
  maxInFlight: number,
  task: (i: number) => Promise<void>,
  onTick?: (started: number) => void,
): Promise<void> {
  const t0 = performance.now();
  let inFlight = 0;
  const running = new Set<Promise<void>>();
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    while (inFlight >= maxInFlight) await Promise.race(running);
    inFlight++;
    const p: Promise<void> = task(i)
      .catch(() => undefined)
      .finally(() => {
        inFlight--;
        running.delete(p);
      });
    running.add(p);
    onTick?.(i + 1);
  }
  await Promise.all(running);
}

/** Runs `task` over `items` with at most `limit` at once. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await task(items[i]!);
      }
    }),
  );
  return out;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Seeded uniform numbers in [0, 1) (the repository's one PRNG), so a run's choices are reproducible. */
export const seeded = mulberry32;

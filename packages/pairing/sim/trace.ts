import { exponential, mulberry32, normal } from '@mm/testing/random';

/** One player's arrival and (pre-drawn) cancel time, shared by every policy. */
export interface Arrival {
  id: string;
  /** Arrival time in simulated ms. */
  at: number;
  rating: number;
  /** When the player gives up if still waiting (ms; Infinity = never). */
  cancelAt: number;
}

export interface TraceOptions {
  /** Arrivals per second (Poisson process). */
  rate: number;
  mean: number;
  sd: number;
  /** Probability that a waiting player cancels within a minute (constant hazard). */
  cancelPerMin: number;
  /** Simulated seconds. */
  duration: number;
  seed: number;
}

/** The arrival trace: same seed → same arrivals, ratings and cancel draws. */
export function generateTrace(o: TraceOptions): Arrival[] {
  const random = mulberry32(o.seed);
  const cancelRatePerMs =
    o.cancelPerMin > 0 ? -Math.log(Math.max(1e-12, 1 - Math.min(o.cancelPerMin, 1 - 1e-12))) / 60_000 : 0;
  const arrivals: Arrival[] = [];
  let t = 0;
  for (let k = 0; ; k++) {
    t += exponential(random, o.rate / 1000);
    if (t >= o.duration * 1000) break;
    const at = Math.floor(t);
    const rating = Math.round(o.mean + o.sd * normal(random));
    const cancelDraw = random();
    const cancelAt =
      cancelRatePerMs > 0 ? at + Math.ceil(-Math.log(1 - cancelDraw) / cancelRatePerMs) : Number.POSITIVE_INFINITY;
    arrivals.push({ id: `p${k.toString().padStart(7, '0')}`, at, rating, cancelAt });
  }
  return arrivals;
}

import { exponential, mulberry32, normal, type Random } from '@mm/testing/random';

/** One player's arrival and (pre-drawn) cancel time, shared by every policy. */
export interface Arrival {
  id: string;
  /** Arrival time in simulated ms. */
  at: number;
  rating: number;
  /** When the player gives up if still waiting (ms; Infinity = never). */
  cancelAt: number;
}

/**
 * Rating distributions: `normal` N(mean, sd); `bimodal` 60 % N(mean − 0.8 sd, sd/2) and 40 %
 * N(mean + 1.2 sd, sd/2) (two communities, e.g. a club pool and a titled pool); `heavy-tailed`
 * mean + sd · t₃/√3 (Student's t with 3 degrees of freedom, same sd, many more players far out),
 * clamped to [100, 3500].
 */
export type RatingDistribution = 'normal' | 'bimodal' | 'heavy-tailed';
export const RATING_DISTRIBUTIONS: readonly RatingDistribution[] = ['normal', 'bimodal', 'heavy-tailed'];

/**
 * Arrival curves: `flat` Poisson at `rate`; `day` a non-homogeneous Poisson process whose rate
 * follows one day compressed into the trace's duration, `rate · (1 + 0.85 cos(2π(t/duration − 0.8)))`:
 * a night trough at 0.15 × rate (30 % of the way in), an evening peak at 1.85 × rate (80 %),
 * mean `rate`.
 */
export type ArrivalCurve = 'flat' | 'day';
export const ARRIVAL_CURVES: readonly ArrivalCurve[] = ['flat', 'day'];

export interface TraceOptions {
  /** Arrivals per second (Poisson process; the mean rate of a `day` curve). */
  rate: number;
  mean: number;
  sd: number;
  /** Probability that a waiting player cancels within a minute (constant hazard). */
  cancelPerMin: number;
  /** Simulated seconds. */
  duration: number;
  seed: number;
  /** Rating distribution (default `normal`). */
  ratings?: RatingDistribution;
  /** Arrival curve (default `flat`). */
  curve?: ArrivalCurve;
}

/** The day curve's rate factor at `fraction` ∈ [0, 1) of the trace (mean 1 over the trace). */
export function dayFactor(fraction: number): number {
  return 1 + 0.85 * Math.cos(2 * Math.PI * (fraction - 0.8));
}
const DAY_PEAK = 1.85;

function drawRating(random: Random, o: TraceOptions): number {
  switch (o.ratings ?? 'normal') {
    case 'normal':
      return o.mean + o.sd * normal(random);
    case 'bimodal':
      return random() < 0.6
        ? o.mean - 0.8 * o.sd + 0.5 * o.sd * normal(random)
        : o.mean + 1.2 * o.sd + 0.5 * o.sd * normal(random);
    case 'heavy-tailed': {
      const z = normal(random);
      let chi2 = 0;
      for (let k = 0; k < 3; k++) chi2 += normal(random) ** 2;
      const t3 = z / Math.sqrt(chi2 / 3);
      return Math.min(3500, Math.max(100, o.mean + (o.sd * t3) / Math.sqrt(3)));
    }
  }
}

/** The arrival trace: same options → same arrivals, ratings and cancel draws. */
export function generateTrace(o: TraceOptions): Arrival[] {
  const random = mulberry32(o.seed);
  const cancelRatePerMs =
    o.cancelPerMin > 0 ? -Math.log(Math.max(1e-12, 1 - Math.min(o.cancelPerMin, 1 - 1e-12))) / 60_000 : 0;
  const day = (o.curve ?? 'flat') === 'day';
  const endMs = o.duration * 1000;
  const arrivals: Arrival[] = [];
  let t = 0;
  for (let k = 0; ; ) {
    // The day curve by thinning: candidates at the peak rate, each kept with factor / peak.
    t += exponential(random, ((day ? DAY_PEAK : 1) * o.rate) / 1000);
    if (t >= endMs) break;
    if (day && random() * DAY_PEAK >= dayFactor(t / endMs)) continue;
    const at = Math.floor(t);
    const rating = Math.round(drawRating(random, o));
    const cancelDraw = random();
    const cancelAt =
      cancelRatePerMs > 0 ? at + Math.ceil(-Math.log(1 - cancelDraw) / cancelRatePerMs) : Number.POSITIVE_INFINITY;
    arrivals.push({ id: `p${k.toString().padStart(7, '0')}`, at, rating, cancelAt });
    k++;
  }
  return arrivals;
}

/**
 * How each process divides `DATABASE_POOL_SIZE` among its PostgreSQL pools, by weight. The
 * setting is the most connections one process's pools hold together; a process's dedicated
 * connections (the event store's LISTEN connection, the projector's leadership lock) come on top.
 */
export const DATABASE_POOL_SHARES = {
  /** apps/api: event store appends and reads; read models and idempotency keys. */
  api: { eventStore: 1, readModels: 1 },
  /** apps/worker: event store (pairing commits, game creation); pairing workers' reads; challenge workers' reads. */
  worker: { eventStore: 4, workers: 2, challenges: 1 },
  /** apps/projector: event store reads; read-model writes. */
  projector: { eventStore: 1, readModels: 1 },
  /** `pnpm mm`: event store reads; read models (rebuilds, diffs, audits); the log reader thread of replays. */
  cli: { eventStore: 1, readModels: 1, logReader: 1 },
  /** `pnpm run audit`: event store reads only. */
  audit: { eventStore: 1 },
} as const satisfies Record<string, Record<string, number>>;

export type DatabaseProcess = keyof typeof DATABASE_POOL_SHARES;

/**
 * The size of each pool of `process` when its pools may hold `total` connections together:
 * one connection each, the rest by weight (largest remainders): the sizes add up to `total`.
 */
export function databasePoolSizes<P extends DatabaseProcess>(
  total: number,
  process: P,
): { [K in keyof (typeof DATABASE_POOL_SHARES)[P]]: number } {
  const shares = Object.entries(DATABASE_POOL_SHARES[process]) as [string, number][];
  const weight = shares.reduce((sum, [, w]) => sum + w, 0);
  // One connection each first, then the rest by weight, the leftovers to the largest remainders.
  const rest = Math.max(0, total - shares.length);
  const exact = shares.map(([name, w]) => ({ name, exact: (rest * w) / weight }));
  const sizes = new Map(exact.map(({ name, exact: e }) => [name, 1 + Math.floor(e)]));
  let left = rest - exact.reduce((sum, { exact: e }) => sum + Math.floor(e), 0);
  for (const { name } of [...exact].sort((a, b) => (b.exact % 1) - (a.exact % 1))) {
    if (left <= 0) break;
    sizes.set(name, sizes.get(name)! + 1);
    left--;
  }
  return Object.fromEntries(sizes) as { [K in keyof (typeof DATABASE_POOL_SHARES)[P]]: number };
}

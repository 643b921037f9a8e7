import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { DATABASE_POOL_SHARES, type DatabaseProcess, databasePoolSizes } from './pool-size.js';

describe('databasePoolSizes', () => {
  const processes = Object.keys(DATABASE_POOL_SHARES) as DatabaseProcess[];

  it('splits DATABASE_POOL_SIZE among a process’s pools: the sizes add up to it, each at least 1', () => {
    for (const process of processes) {
      for (let total = 3; total <= 64; total++) {
        const sizes = Object.values(databasePoolSizes(total, process));
        expect(
          sizes.reduce((a, b) => a + b, 0),
          `${process} ${total}`,
        ).toBe(total);
        expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('follows the weights', () => {
    expect(databasePoolSizes(20, 'api')).toEqual({ eventStore: 10, readModels: 10 });
    expect(databasePoolSizes(20, 'worker')).toEqual({ eventStore: 11, workers: 6, challenges: 3 });
    expect(databasePoolSizes(3, 'worker')).toEqual({ eventStore: 1, workers: 1, challenges: 1 });
    expect(databasePoolSizes(7, 'projector')).toEqual({ eventStore: 4, readModels: 3 });
    expect(databasePoolSizes(5, 'audit')).toEqual({ eventStore: 5 });
  });

  it('DATABASE_POOL_SIZE below the largest number of pools of a process is refused', () => {
    expect(loadConfig({}).DATABASE_POOL_SIZE).toBe(20);
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '2' })).toThrow(/DATABASE_POOL_SIZE: at least 3/);
    const most = Math.max(...Object.values(DATABASE_POOL_SHARES).map((s) => Object.keys(s).length));
    expect(most).toBeLessThanOrEqual(3);
  });
});

import { createTestSchema, testDatabaseUrl, testRedisUrl } from '@mm/testing';
import pg from 'pg';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { Resources } from './resources.js';

const quiet = pino({ level: 'silent' });

describe('Resources', () => {
  it('closes what it made, last made first, and leaves what it was given open', async () => {
    const order: string[] = [];
    const resources = new Resources(quiet);
    resources.own('first', 1, () => order.push('first'));
    resources.onClose('second', () => order.push('second'));
    resources.own('failing', 3, () => {
      throw new Error('boom');
    });
    resources.own('third', 4, () => order.push('third'));
    const given = new pg.Pool({ connectionString: testDatabaseUrl(), max: 1 });
    const pool = resources.postgres(given, { connectionString: 'unused', max: 1, applicationName: 'unused' });
    expect(pool).toBe(given);
    await resources.close();
    expect(order).toEqual(['third', 'second', 'first']);
    expect((await given.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    expect(given.listenerCount('error')).toBe(0);
    await given.end();
  });

  it('a pool it made survives PostgreSQL terminating its connections, and is closed with the rest', async () => {
    const schema = await createTestSchema('runtime');
    const name = `mm-runtime-${schema.schema}`;
    const resources = new Resources(quiet);
    const pool = resources.postgres(undefined, { connectionString: testDatabaseUrl(), max: 2, applicationName: name });
    await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 1')]);
    const { rowCount } = await schema.pool.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [name],
    );
    expect(rowCount).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the idle clients' 'error' events (no listener = crash)
    expect((await pool.query('SELECT 2 AS two')).rows[0].two).toBe(2);
    const redis = resources.redis(undefined, testRedisUrl(), { maxRetriesPerRequest: 1 });
    expect(await redis.ping()).toBe('PONG');
    await resources.close();
    expect(pool.ended).toBe(true);
    // Still heard: PostgreSQL may terminate its connections while it is being ended (a crash otherwise).
    expect(pool.listenerCount('error')).toBe(1);
    pool.emit('error', new Error('terminating connection due to administrator command'));
    await vi.waitFor(() => expect(redis.status).toBe('end'));
    await schema.drop();
  });
});

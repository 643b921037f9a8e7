import { randomBytes } from 'node:crypto';
import { testDatabaseUrl } from '@mm/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLeadership } from './leadership.js';

const admin = new pg.Pool({ connectionString: testDatabaseUrl(), max: 1 });
afterAll(() => admin.end());

describe('acquireLeadership (active/standby by a PostgreSQL session lock)', () => {
  it('one leads, the other waits; the standby leads within its poll once the leader’s session dies', async () => {
    const name = `test-${randomBytes(4).toString('hex')}`;
    const leaderApp = `mm-lead-a-${name}`;
    const first = await acquireLeadership({ connectionString: testDatabaseUrl(), name, applicationName: leaderApp });
    let standby = false;
    const stop = new AbortController();
    const second = acquireLeadership({
      connectionString: testDatabaseUrl(),
      name,
      applicationName: `mm-lead-b-${name}`,
      pollMs: 50,
      onStandby: () => {
        standby = true;
      },
      signal: stop.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(standby).toBe(true);
    const raced = await Promise.race([second.then(() => 'led'), Promise.resolve('waiting')]);
    expect(raced).toBe('waiting');

    // The leader "dies": its session ends (as for a SIGKILLed process or a terminated connection).
    const { rowCount } = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [leaderApp],
    );
    expect(rowCount).toBe(1);
    const killedAt = Date.now();
    await expect(first.lost).resolves.toBeInstanceOf(Error);
    const next = await second;
    const tookOverMs = Date.now() - killedAt;
    process.stderr.write(`leadership: standby took over ${tookOverMs} ms after the leader's session ended\n`);
    expect(tookOverMs).toBeLessThan(2000);
    await next.release();
    await first.release();
  });

  it('a different name is a different lock, and a released lock is free at once', async () => {
    const name = `test-${randomBytes(4).toString('hex')}`;
    const a = await acquireLeadership({ connectionString: testDatabaseUrl(), name, applicationName: 'mm-lead-t' });
    const other = await acquireLeadership({
      connectionString: testDatabaseUrl(),
      name: `${name}-other`,
      applicationName: 'mm-lead-t',
    });
    await a.release();
    const b = await acquireLeadership({
      connectionString: testDatabaseUrl(),
      name,
      applicationName: 'mm-lead-t',
      pollMs: 20,
    });
    await Promise.all([b.release(), other.release()]);
  });

  it('stops waiting when told to', async () => {
    const name = `test-${randomBytes(4).toString('hex')}`;
    const held = await acquireLeadership({ connectionString: testDatabaseUrl(), name, applicationName: 'mm-lead-t' });
    const stop = new AbortController();
    const waiting = acquireLeadership({
      connectionString: testDatabaseUrl(),
      name,
      applicationName: 'mm-lead-t',
      pollMs: 20,
      signal: stop.signal,
    });
    setTimeout(() => stop.abort(), 100);
    await expect(waiting).rejects.toThrow(/stopped while waiting/);
    await held.release();
  });
});

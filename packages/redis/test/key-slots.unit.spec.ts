import { describe, expect, it } from 'vitest';
import { bullPrefix, keySlot, redisKeys } from '../src/index.js';
import { type ScriptName, scripts } from '../src/scripts.js';

/*
 * Redis Cluster runs a script or a multi-key command only when all its keys hash to one slot.
 * These are the keys every script (and every multi-key command) of the service is called with,
 * built as the callers build them, for ids made to break a careless layout (braces, colons,
 * non-ASCII), checked with the slot function ioredis routes by (cluster-key-slot).
 */
const prefix = 'mm';
const keys = redisKeys(prefix);
const tenants = ['acme', 'tenant:ü/1 %', '{evil}', 't}{'];
const pools = ['3+0:rated', '5+3:casual', '{x}:rated'];
const ids = ['e-1', 'e:1/ü', '{tag}', '}{', '日本 語'];

/** What `poolSnapshot-3.lua` derives from its entry prefix argument (encodeURIComponent, as the script's `enc`). */
const derivedEntryKey = (tenant: string, pool: string, id: string) =>
  keys.entryPrefix(tenant, pool) + encodeURIComponent(id);

const cases: Record<ScriptName, (tenant: string, pool: string, id: string) => string[]> = {
  applyEntry: (t, p, id) => [keys.entry(t, p, id), keys.byTime(t, p), keys.byRating(t, p), keys.generation(t, p)],
  poolSnapshot: (t, p, id) => [
    keys.poolLock(t, p),
    keys.generation(t, p),
    keys.byTime(t, p),
    derivedEntryKey(t, p, id),
  ],
  releasePoolLockIfUnchanged: (t, p) => [keys.poolLock(t, p), keys.generation(t, p)],
  renewPoolLock: (t, p) => [keys.poolLock(t, p)],
  // With the checkpoint script the projector writes the set of pools (one pipeline), and it
  // reads checkpoint, epoch and layout with one MGET.
  writeCheckpoint: () => [keys.checkpoint(), keys.epoch(), keys.pools(), keys.layout()],
  pushRecent: (t, _p, id) => [keys.recent(t, id)],
};

const slots = (list: string[]) => new Set(list.map(keySlot));

describe('key layout for Redis Cluster', () => {
  it('every script is checked here', () => {
    expect(Object.keys(cases).sort()).toEqual(Object.keys(scripts).sort());
  });

  for (const [name, keysOf] of Object.entries(cases)) {
    it(`${name}: every key it takes hashes to one slot`, () => {
      for (const tenant of tenants)
        for (const pool of pools)
          for (const id of ids) {
            const list = keysOf(tenant, pool, id);
            expect(list.length, name).toBeGreaterThanOrEqual(scripts[name as ScriptName].numberOfKeys);
            expect(slots(list).size, `${name} ${JSON.stringify(list)}`).toBe(1);
          }
    });
  }

  it("a pool's keys (sets, generation, entries, lock, wave anchor) share its slot; pools and users spread", () => {
    const poolKeys = (t: string, p: string) => [
      keys.byTime(t, p),
      keys.byRating(t, p),
      keys.generation(t, p),
      keys.poolLock(t, p),
      keys.wave(t, p),
      ...ids.map((id) => keys.entry(t, p, id)),
    ];
    const poolSlots = tenants.flatMap((t) => pools.map((p) => [...slots(poolKeys(t, p))]));
    for (const s of poolSlots) expect(s).toHaveLength(1);
    expect(new Set(poolSlots.map(([s]) => s)).size).toBeGreaterThan(1); // not one slot for all pools
    // A user's recent games and held entries share the user's slot.
    for (const t of tenants)
      for (const u of ids)
        expect(slots([keys.recent(t, u), keys.held(t, 'm-1', u), keys.held(t, 'm:2', u)]).size).toBe(1);
  });

  it('ids cannot open or close a hash tag: an id with braces stays inside its own tag', () => {
    expect(keys.byTime('{views}', '3+0:rated')).toBe('mm:{pool:%7Bviews%7D:3%2B0%3Arated}:t');
    expect(keySlot(keys.byTime('{views}', 'p'))).not.toBe(keySlot(keys.checkpoint()));
    expect(keys.recent('t', '}{')).toBe('mm:{user:t:%7D%7B}:recent');
  });

  it('a BullMQ queue keeps every key in its own slot, and the queues are not all in one', () => {
    const queues = ['pairing', 'game-creation', 'challenges', 'matchmaking-tick'];
    for (const queue of queues) {
      const base = `${bullPrefix(prefix, queue)}:${queue}`;
      const bullKeys = [
        'wait',
        'active',
        'delayed',
        'prioritized',
        'meta',
        'events',
        'id',
        'stalled',
        'de:x',
        'job-1',
      ].map((suffix) => `${base}:${suffix}`);
      expect(slots([base, ...bullKeys]).size, queue).toBe(1);
    }
    expect(slots(queues.map((q) => bullPrefix(prefix, q))).size).toBeGreaterThan(1);
  });

  it('tells the keys of the views (this layout and layout 1) from everything else under the prefix', () => {
    const views = [
      keys.byTime('t', 'p'),
      keys.entry('t', 'p', 'e'),
      keys.entryPool('t', 'e'),
      keys.recent('t', 'u'),
      keys.held('t', 'm', 'u'),
      keys.pools(),
      keys.checkpoint(),
      keys.epoch(),
      keys.layout(),
    ];
    const layout1 = [
      'mm:q:t:p:t',
      'mm:e:t:e',
      'mm:u:t:u:recent',
      'mm:h:t:m:u',
      'mm:pools',
      'mm:projection:queue-views',
    ];
    const others = ['mm:bull:{pairing}:pairing:wait', 'mm:rl:user:t:u', 'mm-other:{views}:pools', 'mm:{pool:t:p}:lock'];
    for (const k of views) expect(keys.isCurrentQueueViewKey(k), k).toBe(true);
    for (const k of layout1) expect([keys.isQueueViewKey(k), keys.isCurrentQueueViewKey(k)], k).toEqual([true, false]);
    for (const k of others) expect(keys.isQueueViewKey(k), k).toBe(false);
  });
});

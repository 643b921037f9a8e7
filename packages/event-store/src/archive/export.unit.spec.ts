import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../memory/index.js';
import { readAllPages, sampleEvent } from '../testing/index.js';
import { withArchives } from './archived-store.js';
import { exportArchive } from './export.js';
import { readManifest } from './manifest.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('exportArchive (a store without partitions, e.g. EventStoreDB)', () => {
  it('writes the old part of the log in the archive format, continues where the last file ended, and reads back with withArchives', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mm-export-test-'));
    dirs.push(dir);
    const store = createMemoryEventStore();
    for (let i = 0; i < 5; i++) await store.appendToStream(`player-t:u${i % 2}`, [sampleEvent('QueueJoined')]);
    const first = await exportArchive({
      store,
      before: new Date(Date.now() + 1000),
      dir,
      source: 'memory',
      pageSize: 2,
    });
    expect(first?.events).toBe(5);
    expect(await exportArchive({ store, before: new Date(Date.now() + 1000), dir, source: 'memory' })).toBeNull();
    await store.appendToStream('match-m1', [sampleEvent('MatchCreated'), sampleEvent('GameCreated')]);
    // Nothing recorded before a time in the past: no file.
    expect(await exportArchive({ store, before: new Date(0), dir, source: 'memory' })).toBeNull();
    const second = await exportArchive({ store, before: new Date(Date.now() + 1000), dir, source: 'memory' });
    expect(second).toMatchObject({ events: 2, fromPosition: first!.lastPosition + 1 });
    expect((await readManifest(dir)).files.map((f) => f.events)).toEqual([5, 2]);

    await store.appendToStream('player-t:u0', [sampleEvent('QueueCancelled')]);
    const archived = await withArchives(store, dir);
    expect(await readAllPages(archived, { pageSize: 3 })).toEqual(await readAllPages(store, {}));
    expect((await archived.readStream('player-t:u0')).map((e) => e.type)).toEqual([
      'QueueJoined',
      'QueueJoined',
      'QueueJoined',
      'QueueCancelled',
    ]);
  });
});

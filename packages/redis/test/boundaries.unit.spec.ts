import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scripts } from '../src/scripts.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** Production sources of a package: `src/**\/*.ts` without tests. */
const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });

describe('one home for jobs, keys and scripts', () => {
  it('the API does not depend on the worker package', () => {
    const manifest = JSON.parse(readFileSync(join(repo, 'packages/http-api/package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('@mm/workers');
    const importing = sources(join(repo, 'packages/http-api/src')).filter((file) =>
      /from '@mm\/workers/.test(readFileSync(file, 'utf8')),
    );
    expect(importing).toEqual([]);
  });

  it('no other package defines a BullMQ queue, a Lua script or a key layout', () => {
    const offenders: string[] = [];
    for (const root of ['packages', 'apps']) {
      for (const pkg of readdirSync(join(repo, root))) {
        if (root === 'packages' && pkg === 'redis') continue;
        const src = join(repo, root, pkg, 'src');
        try {
          statSync(src);
        } catch {
          continue;
        }
        for (const file of sources(src)) {
          const text = readFileSync(file, 'utf8');
          if (/new Queue\b|new Queue</.test(text)) offenders.push(`${file}: new Queue`);
          // A Lua body names its KEYS/ARGV (ioredis's generic `redis.call(command, …)` is not Lua).
          if (/defineCommand\(|\.eval\(|\bKEYS\[\d|\bARGV\[\d/.test(text)) offenders.push(`${file}: Lua`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('every script declares its number of keys in its file name and uses no more', () => {
    expect(Object.keys(scripts).sort()).toEqual([
      'applyEntry',
      'poolSnapshot',
      'pushRecent',
      'releasePoolLockIfUnchanged',
      'renewPoolLock',
      'writeCheckpoint',
    ]);
    for (const script of Object.values(scripts)) {
      const used = [...script.lua.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
      expect(Math.max(...used), script.name).toBe(script.numberOfKeys);
    }
  });
});

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { RedisClient } from './client.js';

/**
 * The Lua scripts, one `.lua` file each in this package's `lua/` folder, named
 * `<name>-<number of keys>.lua` as BullMQ names its own: the file says what it touches, and
 * the number of keys is read from the name (never kept in two places).
 */
export type ScriptName =
  | 'applyEntry'
  | 'writeCheckpoint'
  | 'pushRecent'
  | 'poolSnapshot'
  | 'releasePoolLockIfUnchanged'
  | 'renewPoolLock';

export interface Script {
  name: ScriptName;
  numberOfKeys: number;
  lua: string;
}

/** The package root (where `lua/` is), from this module in `src/` or in `dist/src/`. */
const packageRoot = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('@mm/redis: package.json not found above the scripts module');
    dir = parent;
  }
  return dir;
};

const FILE = /^([A-Za-z]+)-(\d+)\.lua$/;

const load = (): Record<ScriptName, Script> => {
  const dir = join(packageRoot(), 'lua');
  const out: Partial<Record<ScriptName, Script>> = {};
  for (const file of readdirSync(dir)) {
    const match = FILE.exec(file);
    if (!match) continue;
    const name = match[1] as ScriptName;
    out[name] = { name, numberOfKeys: Number(match[2]), lua: readFileSync(join(dir, file), 'utf8') };
  }
  return out as Record<ScriptName, Script>;
};

/** Every script by name. */
export const scripts: Record<ScriptName, Script> = load();

/** A Redis client with the scripts as commands (`mm<Name>`, EVALSHA with a fallback to EVAL). */
export type ScriptedRedis = Redis & {
  [K in ScriptName as `mm${Capitalize<K>}`]: (...args: (string | number)[]) => Promise<unknown>;
};

/**
 * Defines every script on `redis` (idempotent; ioredis sends each script once per connection,
 * then EVALSHA). On a cluster each script goes to the node of its first key; every key a script
 * takes (or derives, as poolSnapshot does) shares that key's hash tag.
 */
export function withScripts(redis: RedisClient): ScriptedRedis {
  for (const script of Object.values(scripts)) {
    const command = `mm${script.name[0]!.toUpperCase()}${script.name.slice(1)}`;
    if (!(command in redis)) redis.defineCommand(command, { numberOfKeys: script.numberOfKeys, lua: script.lua });
  }
  return redis as unknown as ScriptedRedis;
}

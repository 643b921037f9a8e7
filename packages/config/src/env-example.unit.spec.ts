import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configKeys, envSchema, loadConfig } from './config.js';
import { envExample, settingDescription } from './env-example.js';

const committed = readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');

describe('.env.example', () => {
  it('is the file generated from the config schema (run `pnpm docs:config` after changing a setting)', () => {
    expect(committed).toBe(envExample());
  });

  it('names every setting once, with a description', () => {
    const names = [...committed.matchAll(/^# ([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    expect(names).toEqual(configKeys);
    for (const key of configKeys) expect(settingDescription(envSchema.shape[key]), key).not.toBe('');
  });

  it('shows the defaults: the values it shows, set, give the configuration of an empty environment', () => {
    const env = Object.fromEntries(
      [...envExample().matchAll(/^# ([A-Z][A-Z0-9_]+)=(.+)$/gm)].map((m) => [m[1]!, m[2]!] as const),
    );
    expect(Object.keys(env)).toContain('POOLS');
    expect(loadConfig(env)).toEqual(loadConfig({}));
  });
});

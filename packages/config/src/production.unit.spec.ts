import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, PLACEHOLDER_JWT_SECRETS } from './config.js';

const repoFile = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
/** The JWT_SECRET fallbacks the repository's run files write: `${JWT_SECRET:-<placeholder>}`. */
const placeholders = [
  ...['docker-compose.yml', 'infra/start.sh'].map((file) => {
    const match = /\$\{JWT_SECRET:-([^}]+)\}/.exec(repoFile(file));
    if (!match) throw new Error(`${file} has no JWT_SECRET fallback any more: update this test`);
    return match[1]!;
  }),
  /process\.env\.JWT_SECRET \?\? '([^']+)'/.exec(repoFile('infra/mint-token.ts'))![1]!,
];

describe('production and the placeholder JWT_SECRET', () => {
  it('knows every placeholder the repository writes', () => {
    expect(placeholders).toHaveLength(3);
    for (const placeholder of placeholders) expect(PLACEHOLDER_JWT_SECRETS).toContain(placeholder);
  });

  it.each(placeholders)('NODE_ENV=production refuses JWT_SECRET=%s with a one-line error', (placeholder) => {
    let error: unknown;
    try {
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: placeholder });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/^invalid configuration: JWT_SECRET is the public placeholder .*openssl rand -hex 32/);
  });

  it('accepts the placeholder outside production and a secret of ones own in production', () => {
    expect(loadConfig({ NODE_ENV: 'development', JWT_SECRET: placeholders[0] }).JWT_SECRET).toBe(placeholders[0]);
    expect(loadConfig({ NODE_ENV: 'test', JWT_SECRET: placeholders[1] }).JWT_SECRET).toBe(placeholders[1]);
    const own = 'b1946ac92492d2347c6235b4d2611184a4b2a8d0f6c3bfb5b3c1f0e2d9c7a6e5';
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: own }).JWT_SECRET).toBe(own);
  });

  it('still lists several problems on several lines', () => {
    expect(() => loadConfig({ PORT: 'x', POOLS: 'blitz' })).toThrow(/^invalid configuration:\n {2}PORT.*\n {2}POOLS/);
  });
});

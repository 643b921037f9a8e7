import { describe, expect, it } from 'vitest';
import { ConfigError, configKeys, loadConfig, type OPS_PORT_DEFAULTS, opsPort, parseWavePools } from './config.js';

describe('loadConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 8003,
      MAX_QUEUE_TIME_SECONDS: 600,
      INITIAL_RATING_WINDOW: 100,
      RATING_WINDOW_WIDENING_INTERVAL: 10,
      WORKER_INTERVAL_SECONDS: 1,
      MATCH_PAIRS_PER_BATCH: 50,
      LIVE_GAME_API_TIMEOUT_SECONDS: 5,
    });
    expect(config.eventStoreUrl).toBe(config.DATABASE_URL);
    expect(config.POOLS).toContain('3+0');
  });

  it('coerces numbers and booleans from strings', () => {
    const config = loadConfig({ PORT: '9000', ACTIVE_GAME_CHECK: 'false', RATING_FALLBACK: 'reject' });
    expect(config.PORT).toBe(9000);
    expect(config.ACTIVE_GAME_CHECK).toBe(false);
    expect(config.RATING_FALLBACK).toBe('reject');
  });

  it('lists every bad variable with a hint', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'abc', POOLS: '3+0,blitz', LIVE_GAME_API_URL: 'not a url' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    expect(issues).toMatch(/PORT/);
    expect(issues).toMatch(/blitz/);
    expect(issues).toMatch(/LIVE_GAME_API_URL/);
  });

  it('gives each process its own ops port unless OPS_PORT says one (0 = any free port)', () => {
    const defaults = loadConfig({});
    expect(defaults.OPS_PORT).toBeUndefined();
    expect(['api', 'projector', 'worker'].map((p) => opsPort(defaults, p as keyof typeof OPS_PORT_DEFAULTS))).toEqual([
      9301, 9302, 9303,
    ]);
    expect(opsPort(loadConfig({ OPS_PORT: '9500' }), 'worker')).toBe(9500);
    expect(opsPort(loadConfig({ OPS_PORT: '0', OPS_HOST: '127.0.0.1' }), 'api')).toBe(0);
    expect(loadConfig({ OPS_PORT: '' }).OPS_PORT).toBeUndefined();
    expect(() => loadConfig({ OPS_PORT: '70000' })).toThrow(/OPS_PORT/);
    expect(() => loadConfig({ OPS_PORT: 'metrics' })).toThrow(/OPS_PORT/);
  });

  it('rejects a max window smaller than the initial one', () => {
    expect(() => loadConfig({ INITIAL_RATING_WINDOW: '200', MAX_RATING_WINDOW: '100' })).toThrow(ConfigError);
  });

  it('reads the rate limits, the CORS allow-list and the public URL', () => {
    expect(loadConfig({})).toMatchObject({
      RATE_LIMIT_WINDOW_SECONDS: 60,
      RATE_LIMIT_USER_COMMANDS: 60,
      RATE_LIMIT_TENANT_COMMANDS: 30_000,
      RATE_LIMIT_EXEMPT_ROLES: ['service'],
      CORS_ORIGINS: [],
    });
    expect(loadConfig({}).API_PUBLIC_URL).toBeUndefined();
    const config = loadConfig({
      RATE_LIMIT_USER_COMMANDS: '0',
      CORS_ORIGINS: 'https://play.example.com, http://127.0.0.1:5173',
      API_PUBLIC_URL: 'https://api.example.com/matchmaking',
    });
    expect(config.RATE_LIMIT_USER_COMMANDS).toBe(0);
    expect(config.CORS_ORIGINS).toEqual(['https://play.example.com', 'http://127.0.0.1:5173']);
    expect(config.API_PUBLIC_URL).toBe('https://api.example.com/matchmaking');
    expect(() => loadConfig({ CORS_ORIGINS: 'https://play.example.com/app' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ API_PUBLIC_URL: 'https://api.example.com/' })).toThrow(/API_PUBLIC_URL/);
  });

  it('exposes its keys', () => {
    expect(configKeys).toContain('EVENT_STORE_URL');
  });
});

describe('parseWavePools', () => {
  it('parses interval and minimum players per pool', () => {
    expect(parseWavePools('3+0:rated=12/20, 5+3:casual=6/10')).toEqual(
      new Map([
        ['3+0:rated', { intervalSeconds: 12, minPlayers: 20 }],
        ['5+3:casual', { intervalSeconds: 6, minPlayers: 10 }],
      ]),
    );
    expect(parseWavePools('')).toEqual(new Map());
    expect(() => parseWavePools('3+0=12')).toThrow(ConfigError);
  });
});

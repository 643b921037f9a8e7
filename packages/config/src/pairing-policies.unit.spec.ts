import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadConfig,
  pairingSettings,
  parsePairingPolicies,
  parsePairingPolicy,
  poolPairingPolicy,
  SEED_POLICY_WINDOWS,
} from './config.js';

describe('PAIRING_POLICIES', () => {
  it('parses seed, settings and explicit windows per pool, with * for the rest', () => {
    const policies = parsePairingPolicies('3+0:rated=window@60/1/1/500, 1+0:casual=seed,*=settings');
    expect(policies.get('3+0:rated')).toEqual({
      name: 'window',
      initialWindow: 60,
      wideningStep: 1,
      wideningIntervalSeconds: 1,
      maxWindow: 500,
    });
    expect(policies.get('1+0:casual')).toEqual({ name: 'seed' });
    expect(policies.get('*')).toEqual({ name: 'settings' });
    expect(parsePairingPolicy('window@25/0.5/2/300')).toMatchObject({ wideningStep: 0.5, wideningIntervalSeconds: 2 });
  });

  it('refuses bad entries at start, naming the setting', () => {
    for (const bad of [
      '3+0:rated=patient',
      '3+0=seed',
      'blitz:rated=seed',
      '3+0:rated=window@60/1/1',
      '3+0:rated=window@60/1/0/500',
      '3+0:rated=window@600/1/1/500',
      '3+0:rated=seed,3+0:rated=settings',
    ]) {
      expect(() => parsePairingPolicies(bad), bad).toThrow(ConfigError);
      expect(() => loadConfig({ PAIRING_POLICIES: bad }), bad).toThrow(/PAIRING_POLICIES/);
    }
  });

  it("gives each pool its policy's windows and the cool-down; other pools the window settings", () => {
    const config = loadConfig({
      PAIRING_POLICIES: '3+0:rated=window@60/1/1/400,5+0:rated=seed',
      INITIAL_RATING_WINDOW: '150',
      REMATCH_COOLDOWN_SECONDS: '60',
    });
    expect(pairingSettings(config, '3+0:rated')).toEqual({
      initialWindow: 60,
      wideningStep: 1,
      wideningIntervalSeconds: 1,
      maxWindow: 400,
      rematchCooldownSeconds: 60,
    });
    expect(pairingSettings(config, '5+0:rated')).toEqual({ ...SEED_POLICY_WINDOWS, rematchCooldownSeconds: 60 });
    expect(pairingSettings(config, '3+0:casual')).toEqual(pairingSettings(config));
    expect(pairingSettings(config).initialWindow).toBe(150);
    expect(poolPairingPolicy(config, '3+0:casual')).toEqual({ name: 'settings' });
    const everyPool = loadConfig({ PAIRING_POLICIES: '*=seed,3+0:rated=settings' });
    expect(poolPairingPolicy(everyPool, '10+5:casual')).toEqual({ name: 'seed' });
    expect(poolPairingPolicy(everyPool, '3+0:rated')).toEqual({ name: 'settings' });
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configKeys } from './config.js';
import { configTable } from './config-table.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('README configuration table', () => {
  it('is the table generated from the config schema (run `pnpm docs:config` after changing a setting)', () => {
    const start = readme.indexOf('<!-- config:start -->');
    const end = readme.indexOf('<!-- config:end -->');
    expect(start).toBeGreaterThan(-1);
    expect(readme.slice(start + '<!-- config:start -->'.length, end).trim()).toBe(configTable());
  });

  it('lists every setting', () => {
    for (const key of configKeys) expect(configTable()).toContain(`\`${key}\``);
  });
});

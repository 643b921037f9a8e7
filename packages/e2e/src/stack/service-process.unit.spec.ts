import { describe, expect, it } from 'vitest';
import { compiledScript } from './service-process.js';

describe('compiledScript', () => {
  it('maps an app entry point to its compiled JavaScript', () => {
    expect(compiledScript('apps/api/src/main.ts')).toBe('apps/api/dist/src/main.js');
    expect(compiledScript('src/main.ts')).toBe('dist/src/main.js');
    expect(compiledScript('apps/worker/src/roles/src/x.ts')).toBe('apps/worker/dist/src/roles/src/x.js');
  });
});

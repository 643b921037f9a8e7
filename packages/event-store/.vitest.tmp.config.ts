import { defineConfig } from 'vitest/config';

// Same as /work/main/vitest.config.ts, but without `import` in the conditions vitest passes to
// Node as --conditions (that flag makes require('pg-pool') load its ESM build and breaks pg).
const conditions = ['@mm/source', 'node', 'import', 'default'];
const nodeConditions = ['@mm/source', 'node', 'default'];
export default defineConfig({
  root: '/work/main',
  resolve: { conditions },
  ssr: { resolve: { conditions: nodeConditions, externalConditions: ['@mm/source'] } },
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['{apps,packages}/*/{src,test}/**/*.unit.spec.ts'] } },
      {
        extends: true,
        test: {
          name: 'int',
          include: ['{apps,packages,infra}/**/{src,test}/**/*.{int,e2e}.spec.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest directory above this module with `pnpm-workspace.yaml` (from `src/` or `dist/src/` alike). */
export const workspaceRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('pnpm-workspace.yaml not found above @mm/testing');
    dir = parent;
  }
  return `${dir}/`;
})();

/**
 * Compiles every workspace package and app to its `dist/` (`tsc -b`, incremental: only what
 * changed), as the production images run them. The benches that measure what production runs
 * call it first. Throws with the compiler's output when the build fails.
 */
export function buildWorkspace(): void {
  const tsc = createRequire(join(workspaceRoot, 'package.json')).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], {
    cwd: workspaceRoot,
    encoding: 'utf8',
  });
  if (result.status !== 0)
    throw new Error(`tsc -b tsconfig.build.json failed:\n${`${result.stdout}${result.stderr}`.trim().slice(0, 4000)}`);
}

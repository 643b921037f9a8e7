/**
 * Builds the installable @mm/contracts tarball: `pnpm contracts:pack [destination]`.
 *
 * The package is staged in a temporary folder (compiled `dist/src` without tests and source
 * maps, the generated `schemas/` and `asyncapi.yaml`, the README, and a consumer's
 * package.json: no workspace-only `@mm/source` condition, scripts or dev dependencies, not
 * private) and packed there with `npm pack`, so nothing stale from the workspace's `dist/` can
 * slip in. Prints the tarball's path.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { contractFiles } from './contract-files.js';

const packageDir = fileURLToPath(new URL('../', import.meta.url));

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  exports: Record<string, string | Record<string, string>>;
  scripts?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** The package.json a consumer gets. */
export function consumerManifest(workspace: Manifest): Manifest {
  const { private: _private, scripts: _scripts, devDependencies: _dev, ...manifest } = workspace;
  const exports = Object.fromEntries(
    Object.entries(workspace.exports).map(([key, target]) => {
      if (typeof target === 'string') return [key, target];
      const { '@mm/source': _source, ...conditions } = target;
      return [key, conditions];
    }),
  );
  return { ...manifest, exports };
}

/** Packs the package into `destination` and returns the tarball's absolute path. */
export function packContracts(destination: string): string {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as Manifest;
  // The published files must be what the zod schemas generate today.
  for (const [path, content] of contractFiles(manifest.version))
    if (readFileSync(join(packageDir, path), 'utf8') !== content)
      throw new Error(`${path} is out of date: run \`pnpm contracts:generate\` first`);

  const stage = mkdtempSync(join(tmpdir(), 'mm-contracts-pack-'));
  try {
    const tsc = createRequire(join(packageDir, 'package.json')).resolve('typescript/bin/tsc');
    execFileSync(
      process.execPath,
      [tsc, '-p', join(packageDir, 'tsconfig.pack.json'), '--outDir', join(stage, 'dist')],
      {
        stdio: 'inherit',
      },
    );
    for (const path of ['schemas', 'asyncapi.yaml', 'README.md'])
      cpSync(join(packageDir, path), join(stage, path), { recursive: true });
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(consumerManifest(manifest), null, 2)}\n`);
    mkdirSync(destination, { recursive: true });
    const output = execFileSync('npm', ['pack', '--json', '--pack-destination', destination], {
      cwd: stage,
      encoding: 'utf8',
      env: { ...process.env, npm_config_ignore_scripts: 'true', npm_config_loglevel: 'error' },
    });
    const [{ filename }] = JSON.parse(output) as [{ filename: string }];
    return join(destination, filename);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const destination = resolve(process.argv[2] ?? join(packageDir, 'dist', 'pack'));
  console.log(packContracts(destination));
}

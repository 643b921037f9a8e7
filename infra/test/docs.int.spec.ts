import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Documentation hygiene: every app and package has a README (purpose, a usage example, its
 * settings), and no file points to a document that is not in this repository.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const self = relative(root, fileURLToPath(import.meta.url));
const workspaces = ['apps', 'packages'].flatMap((dir) =>
  readdirSync(join(root, dir), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, dir, d.name, 'package.json')))
    .map((d) => `${dir}/${d.name}`),
);
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f && f !== self && f !== 'pnpm-lock.yaml' && existsSync(join(root, f)))
  .filter((f) => /\.(md|ts|mts|mjs|js|json|ya?ml|sh|sql|lua|txt)$|(^|\/)(Dockerfile|\.env\.example)$/.test(f));

describe('READMEs', () => {
  it('finds the workspaces', () => {
    expect(workspaces).toEqual(expect.arrayContaining(['apps/api', 'apps/worker', 'packages/config']));
  });

  it.each(workspaces)('%s has a README with its purpose, a usage example and its settings', (workspace) => {
    const path = join(root, workspace, 'README.md');
    expect(existsSync(path), `${workspace}/README.md`).toBe(true);
    const readme = readFileSync(path, 'utf8');
    expect(readme).toMatch(/^# \S.*\n\n\S/); // a title, then what it is
    expect(readme, 'a usage example (a fenced code block)').toMatch(/```\w*\n[\s\S]+?\n```/);
    expect(readme, 'a "## Settings" section').toMatch(/^## Settings\b/m);
  });
});

describe('references', () => {
  it('no file refers to a document outside the repository', () => {
    const outside = [
      /\.\.\/shared\b/, // the steering folder beside the repository
      /ARCHITECTURE\.md/, // the architecture is docs/architecture.md
      /\bthe seed\b|\bseed's\b|\bseed (design|API|defaults|contract|repo|repository|document)\b/i,
    ];
    const found = tracked.flatMap((file) =>
      readFileSync(join(root, file), 'utf8')
        .split('\n')
        .flatMap((line, i) => (outside.some((p) => p.test(line)) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(found).toEqual([]);
  });

  it('every relative link of a Markdown file leads to a file or folder in the repository', () => {
    const broken = tracked
      .filter((f) => f.endsWith('.md'))
      .flatMap((file) =>
        [...readFileSync(join(root, file), 'utf8').matchAll(/\]\(([^)\s]+)\)/g)]
          .map((m) => m[1]!.split('#')[0]!)
          .filter((target) => target && !/^[a-z][a-z+.-]*:/i.test(target))
          .flatMap((target) => {
            const path = resolve(root, dirname(file), target);
            const inside = !relative(root, path).startsWith('..');
            return inside && existsSync(path) ? [] : [`${file} → ${target}`];
          }),
      );
    expect(broken).toEqual([]);
  });

  it('docs/architecture.md is in the repository and the README points to it', () => {
    expect(existsSync(join(root, 'docs/architecture.md'))).toBe(true);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain('docs/architecture.md');
  });
});

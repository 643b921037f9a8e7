import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('../test/heap-cap-child.ts', import.meta.url));
const run = (capMb: number, keepMb: number) => {
  const child = spawnSync(
    process.execPath,
    ['--conditions=@mm/source', '--import', 'tsx', fixture, String(capMb), String(keepMb)],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return {
    status: child.status,
    lines: child.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  };
};

describe('runUnderHeapCap (mm audit --max-memory-mb)', () => {
  it('runs the command again under the cap: the child has that heap limit and finishes', () => {
    const { status, lines } = run(96, 10);
    expect(status).toBe(0);
    expect(lines[0]).toMatchObject({ cap: 96, kept: 10 });
    // V8's limit is the old-space cap plus the (small) young generation.
    expect(lines[0].limitMb).toBeGreaterThanOrEqual(96);
    expect(lines[0].limitMb).toBeLessThan(96 + 40);
    expect(lines[1]).toEqual({ parent: { code: 0, outOfMemory: false } });
  });

  it('a run that needs more than the cap ends as out of memory (exit 2), not as a hang or a success', () => {
    const { status, lines } = run(64, 400);
    expect(status).toBe(2);
    expect(lines.at(-1)).toEqual({ parent: { code: 2, outOfMemory: true } });
  });

  it('0 means no cap: the command runs in this process', () => {
    const { status, lines } = run(0, 1);
    expect(status).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0].cap).toBeUndefined();
  });
});

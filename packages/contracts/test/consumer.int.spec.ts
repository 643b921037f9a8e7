import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { packContracts } from '../scripts/pack.js';

/*
 * A consumer outside the workspace: the packed tarball installed with npm into a project in
 * the OS temp folder (zod from the npm registry), a strict NodeNext TypeScript file compiled
 * against the package's types, then run with node on the stored fixtures. Nothing resolves to
 * the repository except the TypeScript compiler.
 */
const packageDir = fileURLToPath(new URL('../', import.meta.url));
const tsc = createRequire(join(packageDir, 'package.json')).resolve('typescript/bin/tsc');
const work = mkdtempSync(join(tmpdir(), 'mm-contracts-consumer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const fixtures = readdirSync(join(packageDir, 'fixtures'))
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => JSON.parse(readFileSync(join(packageDir, 'fixtures', name), 'utf8')) as unknown);

const consumer = `import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  EventContractError,
  EventEnvelope,
  isEventType,
  type MatchmakingEvent,
  parseEvent,
  playerStream,
} from '@mm/contracts';
import { feed } from './feed.js';

const describeEvent = (event: MatchmakingEvent): string => {
  switch (event.type) {
    case 'MatchCreated':
      return \`\${event.data.white.userId} vs \${event.data.black.userId} in \${event.data.pool.key}\`;
    case 'ChallengeIssued':
      return \`\${event.data.challengerId} asks for \${event.data.challengerColour}\`;
    case 'QueueJoined':
      return \`\${event.data.userId} rated \${event.data.rating.toFixed(0)}\`;
    default:
      return event.type;
  }
};

const lines: string[] = [];
for (const raw of [...feed, { ...(feed[0] as object), type: 'SomethingNew' }]) {
  const envelope = EventEnvelope.parse(raw);
  if (!isEventType(envelope.type)) {
    lines.push(\`skip \${envelope.type}\`);
    continue;
  }
  const event = parseEvent(envelope.type, envelope.schema_version, envelope.data);
  lines.push(\`\${envelope.type} v\${envelope.schema_version}: \${describeEvent(event)}\`);
}

const joined = parseEvent('QueueJoined', 1, (feed.find((e) => (e as { type: string }).type === 'QueueJoined') as { data: unknown }).data);
// @ts-expect-error the data is typed: QueueJoined has no matchId
lines.push(String(joined.data.matchId));
try {
  parseEvent('QueueJoined', 1, { userId: 'u1' });
} catch (error) {
  lines.push(error instanceof EventContractError ? error.code : 'unexpected error');
}
lines.push(playerStream('acme', 'alice'));
const schema = fileURLToPath(import.meta.resolve('@mm/contracts/schemas/QueueJoined.v1.json'));
const asyncapi = fileURLToPath(import.meta.resolve('@mm/contracts/asyncapi.yaml'));
lines.push(\`files \${existsSync(schema)} \${existsSync(asyncapi)}\`);
console.log(lines.join('\\n'));
`;

describe('a TypeScript consumer outside the workspace', () => {
  // ≈ 25 s of CPU (pack: tsc of the package; npm install; tsc of the consumer); on a loaded 2-core machine up to ≈ 2 min.
  it('installs the packed tarball with npm, type-checks against it (strict, NodeNext) and parses real events', {
    timeout: 180_000,
  }, () => {
    let started = Date.now();
    const timings: Record<string, number> = {};
    const lap = (name: string) => {
      timings[name] = Date.now() - started;
      started = Date.now();
    };
    const tarball = packContracts(join(work, 'pack'));
    lap('pack');
    const listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(listing).toContain('package/dist/src/index.js');
    expect(listing).toContain('package/dist/src/index.d.ts');
    expect(listing).toContain('package/asyncapi.yaml');
    expect(listing).toContain('package/schemas/ChallengeIssued.v2.json');
    expect(listing.filter((path) => /\.spec\.|\.map$|\/src\/.*\.ts$/.test(path) && !path.endsWith('.d.ts'))).toEqual(
      [],
    );

    const project = join(work, 'project');
    mkdirSync(join(project, 'src'), { recursive: true });
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'rating-service', private: true, type: 'module' }, null, 2),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: true,
          types: ['node'],
          outDir: 'out',
          noEmitOnError: true,
        },
        include: ['src'],
      }),
    );
    writeFileSync(join(project, 'src', 'feed.ts'), `export const feed: unknown[] = ${JSON.stringify(fixtures)};\n`);
    writeFileSync(join(project, 'src', 'consumer.ts'), consumer);

    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball, '@types/node@20'],
      { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    lap('npm install');
    const installed = JSON.parse(readFileSync(join(project, 'node_modules/@mm/contracts/package.json'), 'utf8'));
    expect(installed.version).toBe(JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version);
    expect(JSON.stringify(installed.exports)).not.toContain('@mm/source');

    // tsc -p type-checks (strict) and, only when that passes (noEmitOnError), emits JS for node.
    const typecheck = spawnSync(process.execPath, [tsc, '-p', project], { cwd: project, encoding: 'utf8' });
    expect(typecheck.stdout + typecheck.stderr).toBe('');
    expect(typecheck.status).toBe(0);
    lap('tsc');
    const output = execFileSync(process.execPath, [join(project, 'out', 'consumer.js')], {
      cwd: project,
      encoding: 'utf8',
    }).trim();
    lap('node');
    console.log('consumer test timings (ms):', timings);

    const lines = output.split('\n');
    expect(lines).toHaveLength(fixtures.length + 5);
    expect(lines).toContain('ChallengeIssued v1: gina asks for black');
    expect(lines).toContain('ChallengeIssued v2: gina asks for random');
    expect(lines).toContain('MatchCreated v1: alice vs bob in 3+0:rated');
    expect(lines).toContain('QueueJoined v1: alice rated 1512');
    expect(lines.slice(-5)).toEqual([
      'skip SomethingNew',
      'undefined',
      'INVALID_EVENT_DATA',
      'player-acme:alice',
      'files true true',
    ]);
  });
});

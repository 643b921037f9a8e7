import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * `pnpm start`'s log output (infra/logs.sh, sourced by infra/start.sh): readable and coloured in
 * a terminal (run under `script`, which gives the shell a pseudo-terminal), JSON lines otherwise.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const line = JSON.stringify({
  level: 30,
  time: Date.parse('2026-12-01T12:00:00Z'),
  pid: 4242,
  hostname: 'host',
  service: 'matchmaking-api',
  port: 8003,
  msg: 'matchmaking API listening',
});
const warn = JSON.stringify({
  level: 40,
  time: 0,
  pid: 1,
  hostname: 'h',
  msg: 'Redis connection error (reconnecting)',
});
// What an app prints: two pino lines and a line that is not JSON (a stack trace's first line).
const app = `printf '%s\\n' '${line}' '${warn}' 'Error: boom'`;
const pipeline = `source infra/logs.sh && ${app} | format_logs api`;

const sh = (command: string, env: Record<string, string> = {}) =>
  new Promise<string>((resolve, reject) => {
    execFile(
      'bash',
      ['-c', command],
      { cwd: root, env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
/** Runs the command with a terminal as stdout (util-linux `script` gives it a pseudo-terminal). */
const inTerminal = (command: string, env: Record<string, string> = {}) =>
  sh('script -qfec \'bash -c "$LOGS_TEST_COMMAND"\' /dev/null', { ...env, LOGS_TEST_COMMAND: command });
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`);

describe('pnpm start logs', () => {
  it('are JSON lines tagged with the process name when stdout is not a terminal', async () => {
    const out = (await sh(pipeline)).trimEnd().split('\n');
    expect(out).toHaveLength(3);
    expect(JSON.parse(out[0]!)).toEqual({ process: 'api', ...JSON.parse(line) });
    expect(JSON.parse(out[1]!)).toMatchObject({ process: 'api', level: 40 });
    expect(out[2]).toBe('[api] Error: boom');
    expect(out.join('\n')).not.toMatch(ANSI);
  });

  it('are readable and coloured in a terminal', async () => {
    const out = (await inTerminal(pipeline)).replaceAll('\r', '').trimEnd().split('\n');
    expect(out).toHaveLength(4); // the first line's extra field (port) goes on a line of its own
    expect(out.join('\n')).toMatch(ANSI);
    const plain = out.map((l) => l.replace(new RegExp(ANSI.source, 'g'), ''));
    expect(plain[0]).toMatch(/^\[api\] \[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: matchmaking API listening$/);
    expect(plain[1]).toBe('[api]     port: 8003');
    expect(plain[2]).toMatch(/^\[api\] \[.*\] WARN: Redis connection error \(reconnecting\)$/);
    expect(plain).toContain('[api] Error: boom');
    expect(() => JSON.parse(plain[0]!.slice(6))).toThrow();
  });

  it('drop the colours with NO_COLOR, and LOG_FORMAT chooses either way', async () => {
    const noColor = await inTerminal(pipeline, { NO_COLOR: '1' });
    expect(noColor).toMatch(/INFO: matchmaking API listening/);
    expect(noColor).not.toMatch(ANSI);
    const json = await inTerminal(pipeline, { LOG_FORMAT: 'json' });
    expect(JSON.parse(json.replaceAll('\r', '').split('\n')[0]!)).toMatchObject({ process: 'api', port: 8003 });
    expect(await sh(pipeline, { LOG_FORMAT: 'pretty', NO_COLOR: '1' })).toMatch(/^\[api\] \[.*\] INFO: matchmaking/);
    await expect(sh(pipeline, { LOG_FORMAT: 'yaml' })).rejects.toThrow(/LOG_FORMAT must be pretty or json/);
  });

  it('infra/start.sh formats every process through them', async () => {
    const script = await sh('cat infra/start.sh');
    expect(script).toMatch(/^source infra\/logs\.sh$/m);
    expect(script).toMatch(/\( "\$@" 2>&1 \| format_logs "\$name" \) &/);
  });
});

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EventStore } from '@mm/event-store';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import { createTestSchema, type TestSchema } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileWithLiveGameApi } from './game-reconciliation.js';
import { readWholeLog } from './read-log.js';
import { TestLog } from './test-log.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsx = ['--conditions=@mm/source', '--import', 'tsx'];

const runCli = (env: Record<string, string>, args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [...tsx, 'packages/audit/src/cli.ts', ...args],
      { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });

/** The real live-game-sim, as its own process on a free port (the port read from its start-up log line). */
async function startSim(): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, [...tsx, 'apps/live-game-sim/src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', SIM_SEED: 'audit' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`live-game-sim did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = out.match(/"port":(\d+)/);
      if (found) {
        clearTimeout(timer);
        resolve(Number(found[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`live-game-sim exited (${code}): ${out}`)));
  });
  child.stdout!.resume();
  return { url: `http://127.0.0.1:${port}`, process: child };
}

describe('reconciling the log with the real live-game-sim', () => {
  let db: TestSchema;
  let store: EventStore;
  let sim: { url: string; process: ChildProcess };
  beforeAll(async () => {
    [db, sim] = await Promise.all([createTestSchema('audit_games'), startSim()]);
    store = await createPostgresEventStore({ connectionString: db.connectionString, schema: db.schema, poolSize: 2 });
  }, 60_000);
  afterAll(async () => {
    sim?.process.kill('SIGTERM');
    await store?.close();
    await db?.drop();
  });

  const createGame = async (matchId: string, white: string, black: string): Promise<string> => {
    const response = await fetch(`${sim.url}/internal/games`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': matchId },
      body: JSON.stringify({
        tenant_id: 't1',
        white_user_id: white,
        black_user_id: black,
        time_control: '3+0',
        mode: 'rated',
        white_rating: 1500,
        black_rating: 1500,
        metadata: { match_id: matchId, source: 'queue' },
      }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { game_id: string }).game_id;
  };
  const cancel = (gameId: string) =>
    fetch(`${sim.url}/internal/games/${gameId}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'match_aborted' }),
    });
  const appendAll = async (log: TestLog) => {
    for (const e of log.events)
      await store.appendToStream(e.streamName, [
        { id: crypto.randomUUID(), type: e.type, data: e.data, metadata: e.metadata },
      ]);
  };
  /** A queue match between two fresh players: claims and MatchCreated, then `end`. */
  const match = (log: TestLog, a: string, b: string, matchId: string) =>
    log
      .join(a, `e-${a}`)
      .join(b, `e-${b}`)
      .claim(a, `e-${a}`, matchId, { user: b, entry: `e-${b}` })
      .claim(b, `e-${b}`, matchId, { user: a, entry: `e-${a}` })
      .matchCreated(matchId, { user: a, entry: `e-${a}` }, { user: b, entry: `e-${b}` });

  it('finds the orphan game of an aborted match (CLI and function), agrees once it is cancelled, and finds a missing game', async () => {
    const played = await createGame('m-played', 'alice', 'bob');
    const orphan = await createGame('m-aborted', 'carol', 'dave');
    const compensated = await createGame('m-compensated', 'erin', 'frank');
    expect((await cancel(compensated)).status).toBe(200);

    const log = new TestLog();
    match(log, 'alice', 'bob', 'm-played')
      .gameCreated('m-played', played)
      .gameStarted('alice', 'e-alice', 'm-played', played, 'white')
      .gameStarted('bob', 'e-bob', 'm-played', played, 'black');
    for (const [a, b, m] of [
      ['carol', 'dave', 'm-aborted'],
      ['erin', 'frank', 'm-compensated'],
    ] as const)
      match(log, a, b, m).aborted(m).release(a, `e-${a}`, m).release(b, `e-${b}`, m);
    await appendAll(log);

    const env = { DATABASE_URL: db.connectionString, EVENT_STORE_SCHEMA: db.schema };
    const found = await runCli(env, ['--live-game-api', sim.url]);
    expect(found.stdout).toMatch(/RESULT: no violations/); // I1–I5 hold; the orphan is outside the log
    expect(found.stdout).toMatch(/FAIL no orphan games/);
    expect(found.stdout).toContain(`[ORPHAN_GAME_OF_ABORTED_MATCH] game ${orphan} (active)`);
    expect(found.code).toBe(1);

    const events = await readWholeLog(store);
    const direct = await reconcileWithLiveGameApi(events, sim.url, { pageSize: 2 }); // paged: 3 games, 2 a page
    expect(direct.findings.map((f) => [f.code, f.matchId, f.gameId])).toEqual([
      ['ORPHAN_GAME_OF_ABORTED_MATCH', 'm-aborted', orphan],
    ]);
    expect(direct.stats).toMatchObject({ games: 3, cancelledGames: 1, matchesWithGame: 1, matchesAborted: 2 });

    // the compensation the workers make: cancel it
    expect((await cancel(orphan)).status).toBe(200);
    const agreed = await runCli(env, ['--live-game-api', sim.url, '--json']);
    expect(JSON.parse(agreed.stdout).games).toMatchObject({ ok: true, findings: [] });
    expect(agreed.code).toBe(0);

    // a GameCreated naming a game live-game-api never made
    const missing = new TestLog();
    match(missing, 'gina', 'hank', 'm-missing').gameCreated('m-missing', 'g-nowhere');
    await appendAll(missing);
    const after = await reconcileWithLiveGameApi(await readWholeLog(store), sim.url);
    expect(after.findings.map((f) => [f.kind, f.code, f.gameId])).toEqual([['missing', 'MISSING_GAME', 'g-nowhere']]);
  }, 90_000);
});

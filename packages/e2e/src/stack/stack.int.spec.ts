import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MatchmakingClient } from '../driver/matchmaking-client.js';
import { sleep } from '../driver/pacing.js';
import { type Stack, startStack } from './stack.js';

// From the TypeScript sources through tsx (as the tests run), and compiled (tsc -b, as the
// production images and the benches run: workspace packages from dist/, Lua scripts and SQL
// migrations found from there).
describe.each([
  { how: 'from sources', compiled: false },
  { how: 'compiled', compiled: true },
])('e2e stack harness (separate processes on loopback), $how', ({ compiled }) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ workers: 2, label: 'e2e_smoke', compiled });
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('runs api, projector, two workers and the simulator; two players get matched and a game', async () => {
    expect([stack.api, stack.projector, stack.sim, ...stack.workers].every((s) => s.running)).toBe(true);
    const client = new MatchmakingClient(stack.apiUrl);
    const a = await client.join('t1', 'smoke-a_r1500', '3+0', 'rated');
    const b = await client.join('t1', 'smoke-b_r1540', '3+0', 'rated');
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.rating).toBe(1500);

    let view = a;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      view = await client.entry('t1', 'smoke-a_r1500', a.body.queue_entry_id);
      if (view.body?.game_id) break;
      await sleep(200);
    }
    if (!view.body?.game_id) stack.fail();
    expect(view.body).toMatchObject({ status: 'MATCHED', opponent_id: 'smoke-b_r1540' });
    expect(view.body.match_id).toBeTruthy();
    expect(['white', 'black']).toContain(view.body.colour);

    const games = (await (await fetch(`${stack.simUrl}/internal/games`)).json()) as { games: { game_id: string }[] };
    expect(games.games.map((g) => g.game_id)).toEqual([view.body.game_id]);
    const types = (await stack.readAll()).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['MatchCreated', 'GameCreated', 'QueueEntryGameStarted']));
  }, 60_000);

  it.skipIf(compiled)(
    'stops a process with SIGTERM and can start another worker',
    async () => {
      const extra = await stack.addWorker();
      expect(extra.running).toBe(true);
      expect(await extra.stop(10_000)).toBe(0);
      expect(extra.running).toBe(false);
    },
    60_000,
  );
});

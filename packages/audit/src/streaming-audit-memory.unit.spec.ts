import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RecordedEvent } from '@mm/event-store';
import { describe, expect, it } from 'vitest';
import { StreamingAuditor } from './streaming-audit.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * A log of `events` events (eight per pair: two joins, two claims, MatchCreated, GameCreated,
 * two game starts; every tenth pair aborted and released instead), produced page by page so
 * the test itself never holds it.
 */
function* pages(events: number, pageSize = 2000): Generator<RecordedEvent[]> {
  let position = 0;
  let page: RecordedEvent[] = [];
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const push = (streamName: string, type: string, data: Record<string, unknown>) => {
    position++;
    page.push({
      id: `ev-${position}`,
      streamName,
      revision: 0,
      position,
      type,
      schemaVersion: 1,
      // biome-ignore lint/suspicious/noExplicitAny: synthetic data
      data: data as any,
      metadata: { tenantId: 't1', correlationId: 'c', causationId: null, actor: { type: 'service', id: 'test' } },
      recordedAt: new Date(t0 + position),
    });
  };
  for (let pair = 0; position < events; pair++) {
    const now = new Date(t0 + position).toISOString();
    const [a, b] = [`a${pair % 5000}`, `b${pair % 5000}`];
    const [ea, eb] = [`ea${pair}`, `eb${pair}`];
    const matchId = `m${pair}`;
    const pool = { key: '3+0:rated', timeControl: '3+0', mode: 'rated' };
    for (const [u, e] of [
      [a, ea],
      [b, eb],
    ])
      push(`player-t1:${u}`, 'QueueJoined', {
        userId: u,
        queueEntryId: e,
        pool,
        rating: 1500,
        ratingSource: 'default',
        ratingRange: null,
        enqueuedAt: now,
      });
    for (const [u, e, o, oe] of [
      [a, ea, b, eb],
      [b, eb, a, ea],
    ])
      push(`player-t1:${u}`, 'QueueEntryMatched', {
        userId: u,
        queueEntryId: e,
        matchId,
        opponent: { userId: o, queueEntryId: oe, rating: 1500 },
        matchedAt: now,
      });
    const side = (u: string, e: string) => ({
      userId: u,
      queueEntryId: e,
      rating: 1500,
      window: { low: 1400, high: 1600 },
      waitMs: 0,
    });
    push(`match-${matchId}`, 'MatchCreated', {
      matchId,
      source: 'queue',
      pool,
      white: side(a, ea),
      black: side(b, eb),
      ratingGap: 0,
      weight: 1,
      algorithmVersion: 'test',
      colourReason: 'random',
      decidedAt: now,
    });
    if (pair % 10 === 9) {
      push(`match-${matchId}`, 'MatchAborted', {
        matchId,
        reason: 'game_creation_failed',
        attempts: 6,
        detail: null,
        abortedAt: now,
      });
      for (const [u, e] of [
        [a, ea],
        [b, eb],
      ]) {
        push(`player-t1:${u}`, 'QueueEntryReleased', {
          userId: u,
          queueEntryId: e,
          matchId,
          reason: 'match_aborted',
          releasedAt: now,
        });
        push(`player-t1:${u}`, 'QueueCancelled', { userId: u, queueEntryId: e, reason: 'user', cancelledAt: now });
      }
    } else {
      push(`match-${matchId}`, 'GameCreated', { matchId, gameId: `g${pair}`, createdAt: now });
      for (const [u, e, colour] of [
        [a, ea, 'white'],
        [b, eb, 'black'],
      ])
        push(`player-t1:${u}`, 'QueueEntryGameStarted', {
          userId: u,
          queueEntryId: e,
          matchId,
          gameId: `g${pair}`,
          colour,
          startedAt: now,
        });
    }
    if (page.length >= pageSize) {
      yield page;
      page = [];
    }
  }
  if (page.length) yield page;
}

/** Heap held once `events` events are audited (the auditor still alive), in MB. */
function heapAfterAuditOf(events: number): { heapMb: number; ok: boolean; matches: number } {
  gc();
  const before = process.memoryUsage().heapUsed;
  const auditor = new StreamingAuditor({ settled: true });
  for (const page of pages(events)) auditor.pushAll(page);
  gc();
  const heapMb = (process.memoryUsage().heapUsed - before) / 1e6;
  const result = auditor.finish();
  return { heapMb, ok: result.ok, matches: result.stats.matches };
}

describe('streaming audit memory', () => {
  it('stays flat as the log grows (50k → 200k events): settled entries and matches keep a small record only', () => {
    const small = heapAfterAuditOf(50_000);
    const large = heapAfterAuditOf(200_000);
    console.log(
      `audit state: ${small.heapMb.toFixed(1)} MB after 50k events, ${large.heapMb.toFixed(1)} MB after 200k`,
    );
    expect(small.ok && large.ok).toBe(true);
    expect(large.matches).toBeGreaterThan(24_000);
    // Holding the extra 150k events would take well over 100 MB; the audit's state for them is
    // a compact record per settled entry and match (≈ 20 MB at most here).
    expect(large.heapMb - small.heapMb).toBeLessThan(40);
    expect(large.heapMb).toBeLessThan(60);
  }, 60_000);
});

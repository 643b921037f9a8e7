import { describe, expect, it } from 'vitest';
import { auditLog } from './audit-log.js';
import { StreamingAuditor } from './streaming-audit.js';
import { TestLog } from './test-log.js';

const codesOf = (log: TestLog, settled = true) =>
  auditLog(log.events, { settled }).violations.map((v) => `${v.invariant}:${v.code}`);

describe('StreamingAuditor — state per open entity only', () => {
  it('drops the state of settled entries and matches as it goes', () => {
    const auditor = new StreamingAuditor({ settled: true });
    const log = new TestLog();
    for (let i = 0; i < 500; i++) log.pairAndPlay(`a${i}`, `b${i}`, `m${i}`);
    log.join('late', 'e-late');
    for (let i = 0; i < log.events.length; i += 100) auditor.pushAll(log.events.slice(i, i + 100));
    expect(auditor.footprint()).toMatchObject({
      openEntries: 1,
      openMatches: 0,
      settledEntries: 1000,
      settledMatches: 500,
    });
    const result = auditor.finish();
    expect(result.ok).toBe(true);
    expect(result.stats).toMatchObject({ matches: 500, searchingAtEnd: 1, queueEntries: 1001 });
  });

  it('gives a late event about a settled entry or match the same code as with the whole log in state', () => {
    const played = () => new TestLog().pairAndPlay('a', 'b', 'm1');
    expect(codesOf(played().cancel('a', 'e-a-m1'))).toEqual(['I3:CANCEL_OF_MATCHED_ENTRY']);
    expect(codesOf(played().timeOut('a', 'e-a-m1'))).toEqual(['I3:TIMEOUT_OF_NON_SEARCHING_ENTRY']);
    expect(codesOf(played().gameCreated('m1', 'g-other'))).toEqual(['I2:TWO_GAMES_FOR_MATCH']);
    expect(codesOf(played().aborted('m1'))).toEqual(['I5:ABORT_AFTER_GAME']);
    expect(codesOf(played().join('a', 'e-a-m1'))).toEqual(['I1:DUPLICATE_QUEUE_ENTRY']);
    const reclaimed = played().join('c', 'ec').claim('a', 'e-a-m1', 'm2', { user: 'c', entry: 'ec' });
    expect(codesOf(reclaimed, false)).toEqual(['I2:ENTRY_IN_TWO_MATCHES']);
    const cancelled = new TestLog().join('a', 'ea').cancel('a', 'ea').join('b', 'eb');
    cancelled.claim('b', 'eb', 'm1', { user: 'a', entry: 'ea' });
    cancelled.matchCreated('m1', { user: 'a', entry: 'ea' }, { user: 'b', entry: 'eb' });
    expect(codesOf(cancelled, false)).toEqual(['I3:MATCH_OF_ENDED_ENTRY']);
    const otherTenant = new TestLog().join('a', 'ea', { tenantId: 't2' });
    otherTenant.append(
      'player-t2:a',
      'QueueCancelled',
      { userId: 'a', queueEntryId: 'ea', reason: 'user', cancelledAt: otherTenant.now() },
      't2',
    );
    otherTenant.join('b', 'eb').matchCreated('m1', { user: 'a', entry: 'ea' }, { user: 'b', entry: 'eb' });
    expect(codesOf(otherTenant, false)).toContain('I4:CROSS_TENANT_MATCH');
  });

  it('reports a claim that named another opponent even after its match settled', () => {
    const log = new TestLog().join('a', 'ea').join('b', 'eb');
    log.claim('a', 'ea', 'm1', { user: 'zed', entry: 'ez' }).claim('b', 'eb', 'm1', { user: 'a', entry: 'ea' });
    log.matchCreated('m1', { user: 'a', entry: 'ea' }, { user: 'b', entry: 'eb' }).gameCreated('m1', 'g1');
    log.gameStarted('a', 'ea', 'm1', 'g1', 'white').gameStarted('b', 'eb', 'm1', 'g1', 'black');
    const auditor = new StreamingAuditor({ settled: true });
    auditor.pushAll(log.events);
    expect(auditor.footprint().openMatches).toBe(0);
    expect(auditor.finish().violations.map((v) => v.code)).toEqual(['CLAIM_OPPONENT_MISMATCH']);
  });

  it('replays events before reportFrom without reporting what it finds there', () => {
    const log = new TestLog().join('a', 'ea').join('a', 'ea2');
    const cut = log.events.length;
    log.join('b', 'eb').join('b', 'eb2');
    const auditor = new StreamingAuditor({ reportFrom: log.events[cut]!.position });
    auditor.pushAll(log.events);
    const result = auditor.finish();
    expect(result.violations.map((v) => `${v.code}:${v.userId}`)).toEqual(['TWO_SEARCHING_ENTRIES:b']);
    expect(result.suppressed).toBe(1);
  });
});

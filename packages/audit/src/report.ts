import type { AuditResult, Invariant } from './types.js';

const INVARIANTS: Record<Invariant, string> = {
  I1: 'at most one searching entry per user and tenant',
  I2: 'an entry in at most one match; a user never in two live matches',
  I3: 'no cancelled / timed-out entry matched; never both cancelled and matched',
  I4: 'same tenant and pool, two users, ratings inside both windows, consistent claims',
  I5: 'every match ends in GameCreated or MatchAborted; nobody stuck',
};

/** A readable report: figures, then the violations per invariant (at most `maxPerInvariant` each). */
export function formatReport(
  result: AuditResult,
  options: { maxPerInvariant?: number; settled?: boolean } = {},
): string {
  const max = options.maxPerInvariant ?? 20;
  const s = result.stats;
  const lines: string[] = [];
  lines.push(`audit of ${s.events} events (${options.settled ? 'settled' : 'not assumed settled'})`);
  const figures: [string, number][] = [
    ['tenants', s.tenants],
    ['players', s.players],
    ['queue entries', s.queueEntries],
    ['cancelled', s.cancelled],
    ['timed out', s.timedOut],
    ['claims', s.claims],
    ['releases', s.releases],
    ['matches (queue / challenge)', s.matches],
    ['games created', s.gamesCreated],
    ['matches aborted', s.matchesAborted],
    ['matches still open', s.openMatches],
    ['entries searching at end', s.searchingAtEnd],
    ['entries claimed at end', s.claimedAtEnd],
    ['players in a live match at end', s.playersInLiveMatchAtEnd],
    ['events failing their schema', s.invalidEvents],
    ['events of unknown types', s.unknownEventTypes],
  ];
  for (const [label, value] of figures)
    lines.push(
      `  ${label.padEnd(34)} ${String(value).padStart(8)}${label.startsWith('matches (') ? `  (${s.queueMatches} / ${s.challengeMatches})` : ''}`,
    );
  lines.push('');
  for (const invariant of Object.keys(INVARIANTS) as Invariant[]) {
    const found = result.violations.filter((v) => v.invariant === invariant);
    lines.push(
      `${found.length === 0 ? 'ok  ' : 'FAIL'} ${invariant} ${INVARIANTS[invariant]}${found.length ? ` — ${found.length} violation(s)` : ''}`,
    );
    for (const v of found.slice(0, max))
      lines.push(`       [${v.code}]${v.position === undefined ? '' : ` @${v.position}`} ${v.detail}`);
    if (found.length > max) lines.push(`       … and ${found.length - max} more`);
  }
  if (result.warnings.length > 0) {
    lines.push('', `warnings (${result.warnings.length}):`);
    for (const w of result.warnings.slice(0, max)) lines.push(`  ${w}`);
  }
  lines.push(
    '',
    result.ok ? 'RESULT: no violations — the log satisfies I1–I5' : `RESULT: ${result.violations.length} violation(s)`,
  );
  return lines.join('\n');
}

import { randomUUID } from 'node:crypto';
import {
  challengeStream,
  eventSchemas,
  type MatchmakingEvent,
  makePool,
  matchStream,
  type Pool,
  playerStream,
} from '@mm/contracts';
import {
  type ChallengeCommand,
  type ChallengeState,
  challengeDecider,
  type Decider,
  initialChallengeState,
  initialPlayerState,
  type MatchCommand,
  type MatchState,
  matchDecider,
  type PlayerCommand,
  type PlayerState,
  playerDecider,
} from '@mm/domain';
import type { EventData, EventMetadata, EventStore, RecordedEvent, StreamAppend } from '@mm/event-store';

export interface SyntheticLogOptions {
  /** Stop once at least this many events were produced (a whole round at a time). */
  events: number;
  /** @defaultValue 20 */
  tenants?: number;
  /** @defaultValue 300 */
  playersPerTenant?: number;
  /** Time of the first event. @defaultValue 2026-11-01T00:00:00Z */
  start?: Date;
}

/** What a synthetic log holds. */
export interface SyntheticLogSummary {
  events: number;
  rounds: number;
  joins: number;
  matches: number;
  games: number;
  aborts: number;
  cancels: number;
  timeouts: number;
  challenges: number;
  /** Business time of the last event. */
  end: Date;
}

const POOLS: Pool[] = [makePool('3+0', 'rated'), makePool('5+3', 'rated'), makePool('10+0', 'casual')];

/**
 * A realistic log written through the domain's own deciders (packages/domain), folded in memory:
 * rounds in which every player of every tenant acts once — groups of six: a pair matched with its
 * game started, a pair matched then aborted (both released, then cancelled), one cancel, one
 * time-out — plus a challenge per group, declined, cancelled or expired. Each round yields
 * three phases (players, then matches and challenges, then players again) whose streams are
 * distinct within a phase, so each phase can go to the store in a few multi-stream appends and
 * the log keeps causal order (claims before `MatchCreated` before game starts).
 */
export function* syntheticLog(options: SyntheticLogOptions): Generator<StreamAppend[], SyntheticLogSummary> {
  const tenants = options.tenants ?? 20;
  const perTenant = options.playersPerTenant ?? 300;
  const summary: SyntheticLogSummary = {
    events: 0,
    rounds: 0,
    joins: 0,
    matches: 0,
    games: 0,
    aborts: 0,
    cancels: 0,
    timeouts: 0,
    challenges: 0,
    end: options.start ?? new Date('2026-11-01T00:00:00Z'),
  };
  let clock = summary.end.getTime();
  const players = new Map<string, PlayerState>();
  const meta = (tenantId: string): EventMetadata => ({
    tenantId,
    correlationId: randomUUID(),
    causationId: null,
    actor: { type: 'service', id: 'synthetic' },
  });

  while (summary.events < options.events) {
    const round = summary.rounds++;
    const phase1 = new Map<string, EventData[]>();
    const phase2 = new Map<string, EventData[]>();
    const phase3 = new Map<string, EventData[]>();
    const emit = (phase: Map<string, EventData[]>, stream: string, tenantId: string, events: MatchmakingEvent[]) => {
      const list = phase.get(stream) ?? [];
      for (const e of events)
        list.push({
          id: randomUUID(),
          type: e.type,
          data: e.data,
          metadata: meta(tenantId),
          schemaVersion: eventSchemas[e.type].schemaVersion,
        });
      phase.set(stream, list);
      summary.events += events.length;
    };
    for (let t = 0; t < tenants; t++) {
      const tenantId = `tenant-${t + 1}`;
      const at = (offsetMs: number) => new Date(clock + offsetMs).toISOString();
      const player = (phase: Map<string, EventData[]>, userId: string, command: PlayerCommand) => {
        const key = `${tenantId}:${userId}`;
        const state = players.get(key) ?? initialPlayerState();
        const next = decide(playerDecider as Decider<PlayerState, PlayerCommand, MatchmakingEvent>, state, command);
        players.set(key, next.state);
        emit(phase, playerStream(tenantId, userId), tenantId, next.events);
      };
      // Rotate who plays with whom from round to round.
      const order = Array.from({ length: perTenant }, (_, i) => (i * 7 + round * 13) % perTenant);
      for (let g = 0; g + 5 < perTenant; g += 6) {
        const ids = order.slice(g, g + 6).map((i) => `u${i}`);
        const pool = POOLS[(g / 6 + round) % POOLS.length]!;
        const rating = (k: number) => 1400 + ((k * 37 + round * 11) % 180);
        const entry = (k: number) => `e${round}-${t}-${g + k}`;
        for (let k = 0; k < 6; k++) {
          player(phase1, ids[k]!, {
            type: 'JoinQueue',
            userId: ids[k]!,
            queueEntryId: entry(k),
            pool,
            rating: rating(k),
            ratingSource: 'default',
            ratingRange: null,
            now: at(k),
          });
          summary.joins++;
        }
        // 0 and 1: matched, game created and started.
        // 2 and 3: matched, aborted, released, then cancelled.
        for (const [a, b, outcome] of [
          [0, 1, 'game'],
          [2, 3, 'abort'],
        ] as const) {
          const matchId = `m${round}-${t}-${g + a}`;
          const side = (k: number) => ({
            userId: ids[k]!,
            queueEntryId: entry(k),
            rating: rating(k),
            window: { low: rating(k) - 200, high: rating(k) + 200 },
            waitMs: 2000,
          });
          for (const [me, other] of [
            [a, b],
            [b, a],
          ] as const)
            player(phase1, ids[me]!, {
              type: 'ClaimQueueEntry',
              userId: ids[me]!,
              queueEntryId: entry(me),
              matchId,
              opponent: { userId: ids[other]!, queueEntryId: entry(other), rating: rating(other) },
              now: at(2000),
            });
          const matches = matchDecider as Decider<MatchState, MatchCommand, MatchmakingEvent>;
          const created = decide(matches, matches.initialState(), {
            type: 'CreateMatch',
            match: {
              matchId,
              source: 'queue',
              pool,
              white: side(a),
              black: side(b),
              ratingGap: Math.abs(rating(a) - rating(b)),
              weight: 1,
              algorithmVersion: 'synthetic',
              colourReason: 'synthetic',
              decidedAt: at(2000),
            },
          });
          const matchEvents = [...created.events];
          summary.matches++;
          if (outcome === 'game') {
            matchEvents.push(
              ...decide(matches, created.state, {
                type: 'RecordGameCreated',
                matchId,
                gameId: `g-${matchId}`,
                now: at(2500),
              }).events,
            );
            summary.games++;
            for (const [k, colour] of [
              [a, 'white'],
              [b, 'black'],
            ] as const)
              player(phase3, ids[k]!, {
                type: 'RecordGameStarted',
                userId: ids[k]!,
                queueEntryId: entry(k),
                matchId,
                gameId: `g-${matchId}`,
                colour,
                now: at(2600),
              });
          } else {
            matchEvents.push(
              ...decide(matches, created.state, {
                type: 'AbortMatch',
                matchId,
                reason: 'game_creation_failed',
                attempts: 6,
                detail: null,
                now: at(2500),
              }).events,
            );
            summary.aborts++;
            for (const k of [a, b]) {
              player(phase3, ids[k]!, {
                type: 'ReleaseQueueEntry',
                userId: ids[k]!,
                queueEntryId: entry(k),
                matchId,
                reason: 'match_aborted',
                now: at(2600),
              });
              player(phase3, ids[k]!, {
                type: 'CancelQueueEntry',
                userId: ids[k]!,
                queueEntryId: entry(k),
                now: at(2700),
              });
              summary.cancels++;
            }
          }
          emit(phase2, matchStream(matchId), tenantId, matchEvents);
        }
        // 4: cancels; 5: times out.
        player(phase1, ids[4]!, { type: 'CancelQueueEntry', userId: ids[4]!, queueEntryId: entry(4), now: at(1000) });
        summary.cancels++;
        player(phase1, ids[5]!, {
          type: 'TimeOutQueueEntry',
          userId: ids[5]!,
          queueEntryId: entry(5),
          now: at(700_000),
          maxQueueTimeMs: 600_000,
        });
        summary.timeouts++;
        // A challenge from 4 to 5: declined, cancelled or expired.
        const challengeId = `c${round}-${t}-${g}`;
        const issue = decide(
          challengeDecider as Decider<ChallengeState, ChallengeCommand, MatchmakingEvent>,
          initialChallengeState(),
          {
            type: 'IssueChallenge',
            challengeId,
            challengerId: ids[4]!,
            opponentId: ids[5]!,
            timeControl: pool.timeControl,
            mode: pool.mode,
            colour: 'random',
            message: null,
            expiresAt: at(120_000),
            now: at(1000),
          } as ChallengeCommand,
        );
        const ending: ChallengeCommand =
          g % 3 === 0
            ? { type: 'DeclineChallenge', challengeId, userId: ids[5]!, reason: 'later', now: at(5000) }
            : g % 3 === 1
              ? { type: 'CancelChallenge', challengeId, userId: ids[4]!, reason: 'challenger', now: at(5000) }
              : { type: 'ExpireChallenge', challengeId, now: at(121_000) };
        const end = decide(
          challengeDecider as Decider<ChallengeState, ChallengeCommand, MatchmakingEvent>,
          issue.state,
          ending,
        );
        emit(phase2, challengeStream(challengeId), tenantId, [...issue.events, ...end.events]);
        summary.challenges++;
      }
      clock += 3000;
    }
    clock += 800_000; // the next round starts after every time-out of this one
    summary.end = new Date(clock);
    for (const phase of [phase1, phase2, phase3])
      yield [...phase].map(([streamName, events]) => ({ streamName, events }));
  }
  return summary;
}

function decide<S, C>(
  decider: Decider<S, C, MatchmakingEvent>,
  state: S,
  command: C,
): { state: S; events: MatchmakingEvent[] } {
  const result = decider.decide(command, state);
  if (!result.ok) throw new Error(`synthetic log: ${(command as { type: string }).type} refused: ${result.error.code}`);
  return { state: result.events.reduce(decider.evolve, state), events: result.events };
}

export interface WriteSyntheticLogOptions extends SyntheticLogOptions {
  /** Events per multi-stream append (one transaction). @defaultValue 20000 */
  eventsPerAppend?: number;
  onProgress?: (events: number) => void;
}

/**
 * Writes {@link syntheticLog} into a store with big multi-stream appends (PostgreSQL and memory
 * stores have them): a million events in a minute or two rather than hours of single appends.
 */
export async function writeSyntheticLog(
  store: EventStore,
  options: WriteSyntheticLogOptions,
): Promise<SyntheticLogSummary> {
  if (!store.appendToStreams) throw new Error('writeSyntheticLog needs a store with multi-stream appends');
  const limit = options.eventsPerAppend ?? 20_000;
  const log = syntheticLog(options);
  let written = 0;
  for (;;) {
    const next = log.next();
    if (next.done) return next.value;
    let chunk: StreamAppend[] = [];
    let size = 0;
    for (const append of next.value) {
      chunk.push(append);
      size += append.events.length;
      if (size >= limit) {
        await store.appendToStreams(chunk);
        written += size;
        options.onProgress?.(written);
        chunk = [];
        size = 0;
      }
    }
    if (chunk.length) {
      await store.appendToStreams(chunk);
      written += size;
      options.onProgress?.(written);
    }
  }
}

/**
 * The same log as recorded events in pages (positions 1, 2, …; recorded at their business
 * time), without a store: for audits of a synthetic log in memory.
 */
export function* syntheticPages(options: SyntheticLogOptions, pageSize = 2000): Generator<RecordedEvent[]> {
  let position = 0;
  const revisions = new Map<string, number>();
  let page: RecordedEvent[] = [];
  for (const phase of iterate(syntheticLog(options)))
    for (const append of phase)
      for (const event of append.events) {
        const revision = (revisions.get(append.streamName) ?? -1) + 1;
        revisions.set(append.streamName, revision);
        position++;
        page.push({
          id: event.id ?? randomUUID(),
          streamName: append.streamName,
          revision,
          position,
          type: event.type,
          schemaVersion: event.schemaVersion ?? 1,
          data: event.data,
          metadata: event.metadata,
          recordedAt: new Date(1_700_000_000_000 + position),
        } as RecordedEvent);
        if (page.length === pageSize) {
          yield page;
          page = [];
        }
      }
  if (page.length) yield page;
}

function* iterate<T>(generator: Generator<T, unknown>): Generator<T> {
  for (;;) {
    const next = generator.next();
    if (next.done) return;
    yield next.value;
  }
}

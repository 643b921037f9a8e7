import type { EventStore } from '@mm/event-store';

/*
 * The state of long-lived streams, cached per event store and decider (see `loadState`).
 *
 * Keyed by the store object, so two stores in one process (tests, a CLI comparing databases)
 * never see each other's states. Least recently used streams leave first; the bound is a count
 * of streams per store and decider (a player's state holds its entries: ≈ 0.3 KB each).
 */

interface CachedState<State> {
  revision: number;
  state: State;
}

/** Streams kept per store and decider. */
export const STATE_CACHE_MAX_STREAMS = 20_000;

export class StateCache<State> {
  readonly #entries = new Map<string, CachedState<State>>();
  constructor(readonly maxStreams: number = STATE_CACHE_MAX_STREAMS) {}

  get size(): number {
    return this.#entries.size;
  }

  get(streamName: string): CachedState<State> | undefined {
    const entry = this.#entries.get(streamName);
    if (entry) {
      // most recently used last
      this.#entries.delete(streamName);
      this.#entries.set(streamName, entry);
    }
    return entry;
  }

  /** Keeps the state at `revision` unless a later one is cached already (concurrent loads). */
  set(streamName: string, revision: number, state: State): void {
    const existing = this.#entries.get(streamName);
    if (existing && existing.revision > revision) return;
    this.#entries.delete(streamName);
    this.#entries.set(streamName, { revision, state });
    if (this.#entries.size > this.maxStreams) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  delete(streamName: string): void {
    this.#entries.delete(streamName);
  }
}

const cachedDeciders = new WeakSet<object>();
const caches = new WeakMap<EventStore, WeakMap<object, StateCache<unknown>>>();

/**
 * Marks a decider's streams as worth caching (long-lived streams: the player's). Others
 * (a match, a challenge: a handful of events each) are read whole every time.
 */
export const cacheStatesOf = <D extends object>(decider: D): D => {
  cachedDeciders.add(decider);
  return decider;
};

/** The cache of a store and decider, when the decider's states are cached. */
export const stateCacheFor = <State>(store: EventStore, decider: object): StateCache<State> | undefined => {
  if (!cachedDeciders.has(decider)) return undefined;
  let byDecider = caches.get(store);
  if (!byDecider) {
    byDecider = new WeakMap();
    caches.set(store, byDecider);
  }
  let cache = byDecider.get(decider);
  if (!cache) {
    cache = new StateCache<unknown>();
    byDecider.set(decider, cache);
  }
  return cache as StateCache<State>;
};

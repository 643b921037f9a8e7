import type { CurrentRevision, ExpectedRevision } from './types.js';

/** Whether a stream at `current` satisfies `expected` — the one definition every adapter shares. */
export const satisfiesExpectedRevision = (expected: ExpectedRevision, current: CurrentRevision): boolean => {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return current === 'no_stream';
    case 'stream_exists':
      return current !== 'no_stream';
    default:
      return current === expected;
  }
};

/** Category of a stream: its name up to the first `-` (the whole name if there is none). */
export const categoryOf = (streamName: string): string => {
  const dash = streamName.indexOf('-');
  return dash === -1 ? streamName : streamName.slice(0, dash);
};

/** Rejects appends the port does not allow, before any adapter-specific work. */
export const assertAppendable = (streamName: string, events: readonly unknown[]): void => {
  if (streamName.length === 0) throw new RangeError('appendToStream: empty stream name');
  if (events.length === 0) throw new RangeError(`appendToStream(${streamName}): at least one event is required`);
};

/** Rejects a multi-stream append the port does not allow: empty, a stream named twice, or an empty part. */
export const assertMultiAppendable = (appends: readonly { streamName: string; events: readonly unknown[] }[]): void => {
  if (appends.length === 0) throw new RangeError('appendToStreams: at least one stream is required');
  const seen = new Set<string>();
  for (const { streamName, events } of appends) {
    assertAppendable(streamName, events);
    if (seen.has(streamName)) throw new RangeError(`appendToStreams: stream ${streamName} is named twice`);
    seen.add(streamName);
  }
};

import type { LogEvent, RecordedEvent } from '@mm/event-store';
import { ReplayInputError } from './errors.js';

/** Where a replay stops: after the event at a global position, or after the last event recorded at or before a time. */
export type LogBound = { position: number } | { time: Date };

/**
 * `--to` as the operator writes it: a global position (digits) or an ISO-8601 time
 * (`2026-11-29T10:00:00Z`; a date alone means its midnight UTC).
 */
export function parseLogBound(text: string, flag = '--to'): LogBound {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const position = Number(trimmed);
    if (!Number.isSafeInteger(position))
      throw new ReplayInputError(`${flag} ${text}: position too large`, 'give a position the log printed');
    return { position };
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) {
    const time = new Date(trimmed);
    if (!Number.isNaN(time.getTime())) return { time };
  }
  throw new ReplayInputError(
    `${flag} ${JSON.stringify(text)} is neither a log position nor an ISO time`,
    'use digits for a position or e.g. 2026-11-29T10:00:00Z',
  );
}

/** Parses a time argument (ISO-8601). */
export function parseTime(text: string, what = 'time'): Date {
  const bound = parseLogBound(text, what);
  if ('time' in bound) return bound.time;
  throw new ReplayInputError(`${what} ${JSON.stringify(text)} is not an ISO time`, 'e.g. 2026-11-29T10:00:00Z');
}

/** The event lies at or before the bound (a {@link LogEvent} read with its `recordedAt` for a time). */
export const isWithin = (event: RecordedEvent | LogEvent, bound: LogBound | undefined): boolean => {
  if (bound === undefined) return true;
  if ('position' in bound) return event.position <= bound.position;
  if (!event.recordedAt) throw new Error('a bound in time needs the events read with their recordedAt');
  return event.recordedAt.getTime() <= bound.time.getTime();
};

export const describeBound = (bound: LogBound): string =>
  'position' in bound ? `position ${bound.position}` : bound.time.toISOString();

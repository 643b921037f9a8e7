import { z } from 'zod';

/** A parsed clock setting: `3+2` = 180 s on the clock, 2 s added per move. */
export interface TimeControl {
  initialSeconds: number;
  incrementSeconds: number;
}

/** Longest initial clock we accept (3 hours), in seconds. */
export const MAX_INITIAL_SECONDS = 180 * 60;
/** Largest increment we accept, in seconds. */
export const MAX_INCREMENT_SECONDS = 180;

// Minutes may be fractional (`0.5+0`, `1.5+1` are common bullet settings) as long as the
// result is a whole number of seconds; the increment is whole seconds.
const TIME_CONTROL_PATTERN = /^(0|[1-9]\d*)(\.\d{1,2})?\+(0|[1-9]\d*)$/;

export type TimeControlResult = { ok: true; value: TimeControl } | { ok: false; message: string };

/** Parses `minutes+increment` (e.g. `3+2`) without throwing. */
export const tryParseTimeControl = (text: string): TimeControlResult => {
  const match = TIME_CONTROL_PATTERN.exec(text);
  if (!match) return { ok: false, message: `time control must look like "3+2" (minutes+increment), got "${text}"` };
  const minutes = Number(match[1]! + (match[2] ?? ''));
  const incrementSeconds = Number(match[3]);
  const initialSeconds = Math.round(minutes * 60 * 1000) / 1000;
  if (!Number.isInteger(initialSeconds))
    return { ok: false, message: `initial time must be a whole number of seconds, got ${minutes} minutes` };
  if (initialSeconds > MAX_INITIAL_SECONDS)
    return { ok: false, message: `initial time must be at most ${MAX_INITIAL_SECONDS / 60} minutes` };
  if (incrementSeconds > MAX_INCREMENT_SECONDS)
    return { ok: false, message: `increment must be at most ${MAX_INCREMENT_SECONDS} seconds` };
  if (initialSeconds === 0 && incrementSeconds === 0) return { ok: false, message: 'time control "0+0" has no time' };
  return { ok: true, value: { initialSeconds, incrementSeconds } };
};

/** Parses `minutes+increment` (e.g. `"3+2"` → `{ initialSeconds: 180, incrementSeconds: 2 }`); throws on invalid input. */
export const parseTimeControl = (text: string): TimeControl => {
  const result = tryParseTimeControl(text);
  if (!result.ok) throw new RangeError(result.message);
  return result.value;
};

/** Canonical text of a time control (`{180, 2}` → `"3+2"`, `{30, 0}` → `"0.5+0"`). */
export const formatTimeControl = ({ initialSeconds, incrementSeconds }: TimeControl): string =>
  `${Number((initialSeconds / 60).toFixed(2))}+${incrementSeconds}`;

const problems = new Map<string, string | null>();

/**
 * What is wrong with a time-control text (null: nothing), remembered for the first 1,024 texts
 * seen: a replay checks the same few texts once per event (≈ 600,000 times in a 1M-event log).
 */
const timeControlProblem = (text: string): string | null => {
  let problem = problems.get(text);
  if (problem !== undefined) return problem;
  const result = tryParseTimeControl(text);
  problem = !result.ok
    ? result.message
    : formatTimeControl(result.value) !== text
      ? `write the time control as "${formatTimeControl(result.value)}"`
      : null;
  if (problems.size < 1024) problems.set(text, problem);
  return problem;
};

/** A time-control string, validated and normalised to its canonical text (`"3.0+2"` is rejected, `"3+2"` kept). */
export const TimeControlText = z
  .string()
  .superRefine((text, ctx) => {
    const problem = timeControlProblem(text);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    // For the generated JSON Schema: the shape only; the limits are in the description.
    pattern: TIME_CONTROL_PATTERN.source,
    description:
      '`minutes+increment` in canonical spelling (`3+2`, `0.5+0`): a whole number of seconds up to 180 minutes, increment up to 180 s, not `0+0`',
  });

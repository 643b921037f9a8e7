import { ConfigError } from '@mm/config';
import { isReplayInputError } from '@mm/replay';

/** A command ran and found something (differences, violations): exit 1 after printing it. */
export const EXIT_OK = 0;
export const EXIT_FINDING = 1;
export const EXIT_CANNOT_RUN = 2;

/** An operator error the command found itself (bad argument): one line, exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

const PG_HINTS: Record<string, string> = {
  '3D000': 'the database does not exist: check DATABASE_URL',
  '28P01': 'authentication failed: check the user and password in DATABASE_URL',
  '28000': 'not allowed to connect: check DATABASE_URL',
  '42501': 'permission denied: the database user needs rights on the schemas involved',
  '57P01': 'the server terminated the connection: try again',
};

/** One line for stderr saying what went wrong and what to do next (never a stack trace). */
export function describeFailure(error: unknown): string {
  if (isReplayInputError(error) || error instanceof UsageError) return `${error.message} — ${error.hint}`;
  if (error instanceof ConfigError)
    return `configuration: ${oneLine(error.message)} — fix the environment variable named`;
  const e = error as { code?: string; message?: string; address?: string; port?: number };
  const message = oneLine(e?.message ?? String(error));
  if (e?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message))
    return `cannot connect (${message}) — start PostgreSQL and Redis (pnpm services) or set DATABASE_URL / REDIS_URL`;
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN')
    return `host not found (${message}) — check the URLs in the environment`;
  if (/timeout/i.test(message)) return `${message} — is the service reachable? check DATABASE_URL / REDIS_URL`;
  if (e?.code && PG_HINTS[e.code]) return `${message} — ${PG_HINTS[e.code]}`;
  return `${message} — unexpected; run again with MM_DEBUG=1 for details`;
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

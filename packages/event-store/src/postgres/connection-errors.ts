/** Node socket errors that mean the connection to the server went away or could not be made. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Whether a `pg` error means the connection was lost or refused, rather than that the
 * statement was wrong: the same statement on a new connection may succeed. SQLSTATE class 08
 * (connection exception), 57P01–57P03 (terminated by an administrator / crash shutdown /
 * cannot connect now, e.g. `pg_terminate_backend`, `pg_ctl restart`), 53300 (too many
 * connections), socket errors, and the `pg` client's own "Connection terminated" errors.
 */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300')
      return true;
    if (SOCKET_CODES.has(code)) return true;
  }
  return (
    typeof message === 'string' &&
    /^Connection terminated|^timeout exceeded when trying to connect|^Client has encountered a connection error/.test(
      message,
    )
  );
}

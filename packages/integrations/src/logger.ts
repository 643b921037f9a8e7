/** The slice of a pino logger this package uses (so callers can pass any pino child). */
export interface Logger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { warn() {}, info() {} };

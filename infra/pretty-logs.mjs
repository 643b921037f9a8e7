/**
 * Formats one process's pino JSON lines for a terminal with pino-pretty (used by infra/logs.sh
 * when `pnpm start` runs in one): time, coloured level, message, then the other fields; colours
 * unless NO_COLOR is set. Lines that are not JSON pass through as they are.
 *
 * It ignores SIGINT and SIGTERM: Ctrl-C reaches the whole process group, and the formatter has
 * to outlive the app to print its shutdown logs. It ends when the app closes its output.
 */
import { PinoPretty } from 'pino-pretty';

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => undefined);

process.stdin.pipe(
  PinoPretty({
    colorize: !process.env.NO_COLOR,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    destination: 1,
    sync: true,
  }),
);

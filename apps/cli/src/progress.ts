import cliProgress from 'cli-progress';

/** A progress display for a command that reads the log. */
export interface Progress {
  /** Sets the total when it becomes known (events to read). */
  total(total: number | undefined): void;
  update(events: number, position: number): void;
  /** Ends the display (leaves the last state on the line). */
  stop(): void;
}

const quiet: Progress = { total: () => undefined, update: () => undefined, stop: () => undefined };

/**
 * A bar on stderr with events/s and ETA (cli-progress), shown only when both stdout and stderr
 * are terminals: with output piped or redirected, in a log file or a test, nothing is printed.
 */
export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || !process.stdout.isTTY || process.env.MM_NO_PROGRESS) return quiet;
  const started = performance.now();
  let known: number | undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} {bar} {percentage}% | {value}/{total} events | {eps} ev/s | ETA {eta_formatted} | @{position}`,
      hideCursor: true,
      etaBuffer: 50,
      fps: 10,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  // Started on the first figure, so it never shows 100 % of nothing.
  const start = (total: number) => {
    if (running) return;
    running = true;
    bar.start(total, 0, { eps: 0, position: '-' });
  };
  return {
    total(total) {
      known = total;
      if (total !== undefined) {
        start(total);
        bar.setTotal(total);
      }
    },
    update(events, position) {
      start(known ?? events);
      if (known === undefined || events > known) bar.setTotal(events);
      const seconds = (performance.now() - started) / 1000;
      bar.update(events, { eps: seconds > 0 ? Math.round(events / seconds) : 0, position });
    },
    stop() {
      if (running) bar.stop();
    },
  };
}

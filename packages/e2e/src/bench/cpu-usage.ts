import { readFileSync } from 'node:fs';

/**
 * CPU accounting for the e2e bench (Linux /proc; elsewhere every figure is null): CPU seconds
 * of each process of the stack, of the driver itself, and of the whole machine (PostgreSQL,
 * Redis and everything else included) between `start()` and `stop()`.
 */

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux architecture Node supports

/** utime + stime of a process in seconds, or null when it is gone or /proc is missing. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces and parentheses).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** Busy and total CPU seconds of the machine (all cores), or null without /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [, ...values] = line.trim().split(/\s+/);
    const n = values.map(Number);
    const total = n.reduce((a, b) => a + b, 0);
    const idle = (n[3] ?? 0) + (n[4] ?? 0); // idle + iowait
    return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
  } catch {
    return null;
  }
}

export interface CpuReport {
  /** CPU seconds per named process group (e.g. api, worker, projector, live-game-sim, driver). */
  seconds: Record<string, number | null>;
  /** Busy CPU seconds of the whole machine. */
  machineBusySeconds: number | null;
  /** Average number of busy cores over the window. */
  machineBusyCores: number | null;
  wallSeconds: number;
}

/** Starts measuring the given processes (name → pids; several pids of one name are summed). */
export function startCpuWindow(processes: () => Record<string, number[]>): { stop(): CpuReport } {
  const sample = () => {
    const out: Record<string, number | null> = {};
    for (const [name, pids] of Object.entries(processes())) {
      let sum: number | null = 0;
      for (const pid of pids) {
        const s = processCpuSeconds(pid);
        sum = s === null || sum === null ? null : sum + s;
      }
      out[name] = sum;
    }
    const own = process.cpuUsage();
    out.driver = (own.user + own.system) / 1e6;
    return out;
  };
  const before = sample();
  const machineBefore = machineCpuSeconds();
  const startedAt = performance.now();
  return {
    stop() {
      const after = sample();
      const machineAfter = machineCpuSeconds();
      const wallSeconds = (performance.now() - startedAt) / 1000;
      const seconds: Record<string, number | null> = {};
      for (const name of Object.keys(after)) {
        const a = after[name];
        const b = before[name];
        seconds[name] = a === null || a === undefined || b === null || b === undefined ? null : a - b;
      }
      const machineBusySeconds = machineBefore && machineAfter ? machineAfter.busy - machineBefore.busy : null;
      return {
        seconds,
        machineBusySeconds,
        machineBusyCores: machineBusySeconds === null ? null : machineBusySeconds / wallSeconds,
        wallSeconds,
      };
    },
  };
}

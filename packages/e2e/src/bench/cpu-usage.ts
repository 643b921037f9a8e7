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

/**
 * Like {@link startCpuWindow}, for process groups whose members come and go (PostgreSQL
 * backends of a pool that opens and closes connections): every `intervalMs` it lists each
 * group's pids and reads their CPU; a pid first seen after the start counts from zero (it was
 * born inside the window), a pid that disappears keeps its last reading. A backend that is
 * born and dies between two samples is missed.
 */
export function startCpuSampler(
  groups: () => Promise<Record<string, number[]>>,
  intervalMs = 500,
): { stop(): Promise<CpuReport> } {
  const first = new Map<string, Map<number, number>>();
  const last = new Map<string, Map<number, number>>();
  let initial = true;
  const sample = async () => {
    const listed = await groups().catch(() => ({}) as Record<string, number[]>);
    for (const [name, pids] of Object.entries(listed)) {
      const f = first.get(name) ?? new Map<number, number>();
      const l = last.get(name) ?? new Map<number, number>();
      first.set(name, f);
      last.set(name, l);
      for (const pid of pids) {
        const s = processCpuSeconds(pid);
        if (s === null) continue;
        if (!f.has(pid)) f.set(pid, initial ? s : 0);
        l.set(pid, s);
      }
    }
    initial = false;
  };
  const machineBefore = machineCpuSeconds();
  const startedAt = performance.now();
  const ownBefore = process.cpuUsage();
  let timer: NodeJS.Timeout | undefined;
  const ready = sample().then(() => {
    timer = setInterval(() => void sample(), intervalMs);
  });
  return {
    async stop() {
      await ready;
      clearInterval(timer);
      await sample();
      const machineAfter = machineCpuSeconds();
      const wallSeconds = (performance.now() - startedAt) / 1000;
      const seconds: Record<string, number | null> = {};
      for (const [name, l] of last) {
        const f = first.get(name)!;
        let sum = 0;
        for (const [pid, s] of l) sum += s - (f.get(pid) ?? 0);
        seconds[name] = sum;
      }
      const own = process.cpuUsage(ownBefore);
      seconds.driver = (own.user + own.system) / 1e6;
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

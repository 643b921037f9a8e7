import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { machineCpuSeconds, processCpuSeconds, startCpuWindow } from './cpu-usage.js';

// Burns a given amount of CPU time (not wall time): on a busy machine the figures still hold.
const burn = (ms: number) => {
  const start = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return x;
  }
};

describe.runIf(process.platform === 'linux')('cpu accounting (/proc)', () => {
  it('counts the CPU a child process and the driver burn in the window, and the machine’s', async () => {
    const child = spawn(process.execPath, [
      '-e',
      // burns 400 ms of CPU, says so, then idles
      'let x=0;for(;;){for(let i=0;i<1e4;i++)x+=Math.sqrt(x+1);const u=process.cpuUsage();if((u.user+u.system)/1000>=400)break}process.stdout.write("burnt\\n");setTimeout(()=>{},30000)',
    ]);
    const burnt = new Promise<void>((resolve) => child.stdout.on('data', () => resolve()));
    try {
      const window = startCpuWindow(() => ({ busy: [child.pid!] }));
      burn(200);
      await burnt;
      await new Promise((r) => setTimeout(r, 600));
      const report = window.stop();
      expect(report.seconds.busy).toBeGreaterThanOrEqual(0.25);
      expect(report.seconds.driver).toBeGreaterThanOrEqual(0.15);
      expect(report.machineBusySeconds).toBeGreaterThanOrEqual(0.4);
      expect(report.machineBusyCores).toBeGreaterThan(0);
      expect(report.wallSeconds).toBeGreaterThanOrEqual(0.6);
    } finally {
      child.kill();
    }
  });

  it('gives null for a process that does not exist', () => {
    expect(processCpuSeconds(2 ** 22 + 12345)).toBeNull();
    const m = machineCpuSeconds();
    expect(m && m.total > m.busy).toBe(true);
  });
});

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { machineCpuSeconds, processCpuSeconds, startCpuWindow } from './cpu-usage.js';

const burn = (ms: number) => {
  const until = performance.now() + ms;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  return x;
};

describe.runIf(process.platform === 'linux')('cpu accounting (/proc)', () => {
  it('counts the CPU a child process and the driver burn in the window, and the machine’s', async () => {
    const child = spawn(process.execPath, [
      '-e',
      'const t=Date.now()+400;let x=0;while(Date.now()<t)x+=Math.sqrt(x+1);setTimeout(()=>{},5000)',
    ]);
    try {
      const window = startCpuWindow(() => ({ busy: [child.pid!] }));
      burn(200);
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

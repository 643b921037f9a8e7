// CPU profile of each matchmaking app process of a bench or test stack, for when `node
// --cpu-prof` cannot be used (it is not allowed in NODE_OPTIONS, and the e2e stack spawns the
// apps itself). The stack passes NODE_OPTIONS and PROF_DIR through to the apps:
//
//   PROF_DIR=/tmp/prof NODE_OPTIONS="--import $PWD/infra/cpu-profile.mjs" pnpm bench:e2e --duration 15
//
// Every process whose script is apps/<name>/… writes <name>-<pid>.cpuprofile (open it in Chrome
// DevTools or speedscope) and <name>-<pid>.cpu (user + system CPU seconds) to PROF_DIR on exit.
// Sampling costs CPU itself: compare profiled runs with profiled runs, or set PROF_CPU_ONLY=1
// to write only the .cpu files (no sampling, no overhead).
import fs from 'node:fs';
import inspector from 'node:inspector';

const app = (process.argv[1] ?? '').match(/apps\/([^/]+)\//)?.[1];
if (app && process.env.PROF_DIR) {
  const dir = process.env.PROF_DIR;
  const started = process.cpuUsage();
  const writeCpu = () => {
    const cpu = process.cpuUsage(started);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${dir}/${app}-${process.pid}.cpu`, `${(cpu.user + cpu.system) / 1e6}\n`);
  };
  if (process.env.PROF_CPU_ONLY === '1') process.on('exit', writeCpu);
  else {
    const session = new inspector.Session();
    session.connect();
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: 500 });
    session.post('Profiler.start');
    // The main-thread session answers synchronously, so this works inside 'exit'.
    process.on('exit', () => {
      session.post('Profiler.stop', (error, result) => {
        if (error) return;
        writeCpu();
        fs.writeFileSync(`${dir}/${app}-${process.pid}.cpuprofile`, JSON.stringify(result.profile));
      });
    });
  }
}

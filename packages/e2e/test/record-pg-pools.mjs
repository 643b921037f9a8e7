/**
 * Preload for a process under test (NODE_OPTIONS=--import=<this file>): appends one JSON line
 * to PG_POOLS_FILE for every pg.Pool the process makes (its `max` and `application_name`) and
 * for every one it ends. Every package of the workspace resolves the same `pg`, so patching its
 * `Pool` here reaches every `new pg.Pool(…)` of the process.
 */
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const file = process.env.PG_POOLS_FILE;
const pg = createRequire(import.meta.url)('pg');
const Original = pg.Pool;
let made = 0;
const write = (entry) => appendFileSync(file, `${JSON.stringify({ pid: process.pid, ...entry })}\n`);

pg.Pool = class RecordedPool extends Original {
  constructor(options) {
    super(options);
    const id = ++made;
    write({ id, event: 'made', max: this.options.max, name: options?.application_name ?? null });
    const end = this.end.bind(this);
    this.end = (...args) => {
      write({ id, event: 'ended' });
      return end(...args);
    };
  }
};

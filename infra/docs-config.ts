/** Rewrites the configuration table in README.md from the config schema: `pnpm docs:config`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { configTable } from '@mm/config';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const [start, end] = ['<!-- config:start -->', '<!-- config:end -->'];
const from = readme.indexOf(start);
const to = readme.indexOf(end);
if (from < 0 || to < 0) {
  console.error(`README.md needs the markers ${start} and ${end}`);
  process.exit(1);
}
writeFileSync(path, `${readme.slice(0, from + start.length)}\n${configTable()}\n${readme.slice(to)}`);
console.log('README.md configuration table updated');

/**
 * Regenerates what is written from the config schema (`pnpm docs:config`): the configuration
 * table in README.md and `.env.example`. Tests in packages/config fail while either is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { configTable, envExample } from '@mm/config';

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
writeFileSync(new URL('../.env.example', import.meta.url), envExample());
console.log('README.md configuration table and .env.example updated');

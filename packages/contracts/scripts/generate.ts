/** Writes the generated contract files (schemas/*.json, asyncapi.yaml): `pnpm contracts:generate`. */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { contractFiles } from './contract-files.js';

const root = new URL('../', import.meta.url);
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string };
const files = contractFiles(version);

mkdirSync(new URL('schemas/', root), { recursive: true });
// Schemas of event types that are no longer registered go away with them.
for (const name of readdirSync(new URL('schemas/', root)))
  if (!files.has(`schemas/${name}`)) rmSync(new URL(`schemas/${name}`, root));
for (const [path, content] of files) writeFileSync(new URL(path, root), content);
console.log(`@mm/contracts ${version}: wrote ${files.size} files (schemas/*.json, asyncapi.yaml)`);

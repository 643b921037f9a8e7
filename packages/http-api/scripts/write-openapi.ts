/**
 * Writes the OpenAPI document the API serves at /openapi.json to a file (for `redocly lint`,
 * client generators and reviews): `pnpm lint:openapi` writes .local/openapi.json and lints it.
 *
 *   node --conditions=@mm/source --import tsx packages/http-api/scripts/write-openapi.ts <out.json>
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { openApiDocument } from '../src/openapi.js';

const out = process.argv[2];
if (!out) {
  console.error('usage: write-openapi.ts <out.json>');
  process.exit(2);
}
const path = resolve(out);
mkdirSync(dirname(path), { recursive: true });
writeFileSync(path, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`OpenAPI document written to ${out}`);

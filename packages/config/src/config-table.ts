import { envSchema } from './config.js';
import { settingDescription } from './env-example.js';

/** The README's configuration table, generated from the schema so the two cannot drift apart. */
export function configTable(): string {
  const rows = Object.entries(envSchema.shape).map(([name, schema]) => {
    const parsed = envSchema.shape[name as keyof typeof envSchema.shape].safeParse(undefined);
    const fallback = parsed.success && parsed.data !== undefined ? JSON.stringify(parsed.data) : '—';
    const description = settingDescription(schema);
    return `| \`${name}\` | \`${fallback.replaceAll('|', '\\|')}\` | ${description.replaceAll('|', '\\|')} |`;
  });
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

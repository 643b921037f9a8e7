import pg from 'pg';
import { createPostgresEventStore } from './src/postgres/postgres-event-store.js';
const [url, schema] = process.argv.slice(2) as [string, string];
const store = await createPostgresEventStore({ connectionString: url, schema, poolSize: 2, migrate: false, dataCompression: false });
const pool = new pg.Pool({ connectionString: url, max: 1 });
const f = { categories: ['player', 'match', 'challenge'] };
for (let r = 0; r < 4; r++) {
  let t = performance.now(); let after = -1; let c0 = process.cpuUsage();
  for (let i = 0; i < 100; i++) { const rows = await store.readLogRows({ after, maxCount: 2000, filter: f }); after = Number(rows[rows.length - 1]![2]); }
  let c = process.cpuUsage(c0);
  console.log('readLogRows 200k', Math.round(performance.now() - t), 'ms; node cpu', Math.round((c.user + c.system) / 1000));
  t = performance.now(); after = -1; c0 = process.cpuUsage();
  for (let i = 0; i < 100; i++) { const { rows } = await pool.query(`SELECT e.* FROM "${schema}".events e WHERE e.position > $1 AND e.category_id = ANY(ARRAY(SELECT id FROM "${schema}".event_categories WHERE name = ANY($2))) ORDER BY e.position LIMIT 2000`, [after, f.categories]); after = rows[rows.length - 1].position; }
  c = process.cpuUsage(c0);
  console.log('raw SELECT e.* 200k', Math.round(performance.now() - t), 'ms; node cpu', Math.round((c.user + c.system) / 1000));
}
await store.close(); await pool.end();

import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../stack/free-port.js';

const run = promisify(execFile);

/** Where Debian puts the server binaries (`initdb`, `pg_ctl`): the newest installed major version. */
export function findPostgresBin(root = '/usr/lib/postgresql'): string | null {
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

/**
 * A PostgreSQL server of the bench's own (initdb into a temporary directory, trust auth,
 * loopback on a free port), so it can be restarted (`pg_ctl -m fast restart`) without touching
 * the machine's PostgreSQL. PostgreSQL refuses to run as root: when this process is root, the
 * binaries run as the `postgres` user (`runuser -u postgres --`) and the directory is theirs.
 */
export class PostgresServer {
  private constructor(
    readonly bin: string,
    readonly dir: string,
    readonly port: number,
    private readonly asUser: string | null,
  ) {}

  /** Creates the cluster, starts it and creates `database`. Throws when it cannot (no binaries, no user to run as). */
  static async start(database = 'matchmaking'): Promise<PostgresServer> {
    const bin = findPostgresBin();
    if (!bin) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
    const dir = mkdtempSync(join(tmpdir(), 'mm-pg-'));
    let asUser: string | null = null;
    if (process.getuid?.() === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
      asUser = 'postgres';
    }
    const server = new PostgresServer(bin, dir, await freePort(), asUser);
    try {
      await server.exec('initdb', ['-D', server.dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
      await server.pgCtl('start');
      const admin = new pg.Client({ connectionString: server.url('postgres') });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
      await admin.end();
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  url(database = 'matchmaking'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** `pg_ctl -m fast restart -w`: every connection is closed, the server is back when this resolves. */
  async restart(): Promise<void> {
    await this.pgCtl('restart');
  }

  async stop(): Promise<void> {
    if (existsSync(join(this.dataDir, 'postmaster.pid'))) await this.pgCtl('stop').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private pgCtl(action: 'start' | 'restart' | 'stop') {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
    return this.exec('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      join(this.dir, 'server.log'),
      '-m',
      'fast',
      '-w',
      '-t',
      '30',
      ...(action === 'stop' ? [] : ['-o', options]),
      action,
    ]);
  }

  private async exec(tool: string, args: string[]): Promise<void> {
    const path = join(this.bin, tool);
    const [command, argv] = this.asUser ? ['runuser', ['-u', this.asUser, '--', path, ...args]] : [path, args];
    await run(command, argv, { cwd: this.dir });
  }
}

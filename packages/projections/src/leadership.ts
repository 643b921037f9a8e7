import pg from 'pg';

export interface LeadershipOptions {
  /** PostgreSQL that holds the lock (the read models' database). */
  connectionString: string;
  /** What is led: processes with the same name compete for one lock. */
  name: string;
  /** `application_name` of the lock's connection. */
  applicationName: string;
  /** How often a standby asks for the lock. @defaultValue 200 */
  pollMs?: number;
  /** Told once when this process starts waiting behind another leader. */
  onStandby?: () => void;
  /** Stops waiting (the process is shutting down). */
  signal?: AbortSignal;
}

export interface Leadership {
  /** Settles when the lock is lost (its connection died): stop working at once, another process may lead now. */
  lost: Promise<Error>;
  /** Gives the lock up (closes its connection). */
  release(): Promise<void>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/**
 * One leader among processes of the same `name`: a PostgreSQL session advisory lock held on a
 * connection of its own. The projector runs active/standby with it — a standby takes over
 * within `pollMs` of the leader's death, because PostgreSQL frees a session lock the moment
 * the session ends (a killed process's socket closes; a network partition ends it by TCP
 * keepalive). Resolves once this process leads; rejects if `signal` aborts first.
 */
export async function acquireLeadership(options: LeadershipOptions): Promise<Leadership> {
  const pollMs = options.pollMs ?? 200;
  let standbyTold = false;
  for (;;) {
    if (options.signal?.aborted) throw new Error('leadership: stopped while waiting');
    const client = new pg.Client({
      connectionString: options.connectionString,
      application_name: options.applicationName,
      keepAlive: true,
    });
    let failure: Error | undefined;
    client.on('error', (error) => {
      failure = error;
    });
    try {
      await client.connect();
      for (;;) {
        if (failure) throw failure;
        const { rows } = await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS held', [
          `mm-leader:${options.name}`,
        ]);
        if (rows[0]?.held) {
          const lost = new Promise<Error>((resolve) => {
            if (failure) return resolve(failure);
            client.once('error', resolve);
            client.once('end', () => resolve(new Error('leadership: the lock connection ended')));
          });
          return { lost, release: () => client.end().catch(() => undefined) };
        }
        if (!standbyTold) {
          standbyTold = true;
          options.onStandby?.();
        }
        await sleep(pollMs, options.signal);
        if (options.signal?.aborted) throw new Error('leadership: stopped while waiting');
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      if (options.signal?.aborted) throw error;
      // PostgreSQL away: ask again after a pause (a lock can only be held on a live session).
      await sleep(pollMs * 5, options.signal);
    }
  }
}

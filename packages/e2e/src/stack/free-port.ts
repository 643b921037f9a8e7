import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the OS picks it; a tiny race with other processes remains). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('could not get a free port');
  return address.port;
}

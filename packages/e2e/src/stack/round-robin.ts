import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A layer-4 round-robin balancer on loopback, as a load balancer in front of several API
 * instances would be: each client connection goes to the next backend in turn (a backend that
 * refuses the connection is skipped). Counts connections per backend so a test can see that
 * every instance served.
 */
export class RoundRobin {
  private next = 0;
  private readonly sockets = new Set<Socket>();
  /** Connections handed to each backend, by port. */
  readonly connections = new Map<number, number>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly backends: readonly number[],
  ) {
    for (const b of backends) this.connections.set(b, 0);
  }

  static async start(backendPorts: readonly number[]): Promise<RoundRobin> {
    if (backendPorts.length === 0) throw new Error('RoundRobin needs at least one backend');
    let self: RoundRobin | undefined;
    const server = createServer((client) => self?.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('RoundRobin: no port');
    self = new RoundRobin(server, address.port, backendPorts);
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private accept(client: Socket, tried = 0): void {
    const port = this.backends[this.next++ % this.backends.length]!;
    const upstream = createConnection({ port, host: '127.0.0.1' });
    this.sockets.add(client);
    this.sockets.add(upstream);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.connections.set(port, (this.connections.get(port) ?? 0) + 1);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', () => {
      if (!connected && tried + 1 < this.backends.length) {
        this.sockets.delete(upstream);
        this.accept(client, tried + 1); // that instance is down: the next one
        return;
      }
      client.destroy();
    });
    client.on('error', () => upstream.destroy());
    client.once('close', () => {
      upstream.destroy();
      this.sockets.delete(client);
    });
    upstream.once('close', () => {
      if (connected) client.destroy();
      this.sockets.delete(upstream);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

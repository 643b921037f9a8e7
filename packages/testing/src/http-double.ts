import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A programmable HTTP server on 127.0.0.1 standing in for a service we do not own. */
export interface HttpDouble {
  url: string;
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: unknown }[];
  handle: (req: { method: string; url: string; body: unknown }, res: ServerResponse) => void | Promise<void>;
  close(): Promise<void>;
}

export async function startHttpDouble(): Promise<HttpDouble> {
  const double: HttpDouble = {
    url: '',
    requests: [],
    handle: (_req, res) => {
      res.statusCode = 500;
      res.end();
    },
    close: async () => {},
  };
  const server: Server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? JSON.parse(raw) : null;
    const entry = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body };
    double.requests.push(entry);
    await double.handle(entry, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  double.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  double.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return double;
}

export const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
};

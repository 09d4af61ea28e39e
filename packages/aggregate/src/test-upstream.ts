// Test support (not built into dist): real HTTP upstreams on loopback ports that count what reached
// them, for the cache and composition tests.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Upstream {
  readonly url: string;
  /** Requests received, by path with query. */
  readonly hits: Map<string, number>;
  /** Every request's headers, in order. */
  readonly seen: Array<{ url: string; headers: IncomingMessage['headers'] }>;
  total(): number;
  close(): Promise<void>;
}

/** Starts `handler` on a free loopback port; every request is counted before it runs. */
export async function startUpstream(
  handler: (req: IncomingMessage, res: ServerResponse, url: URL) => void,
): Promise<Upstream> {
  const hits = new Map<string, number>();
  const seen: Upstream['seen'] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    hits.set(req.url ?? '/', (hits.get(req.url ?? '/') ?? 0) + 1);
    seen.push({ url: req.url ?? '/', headers: req.headers });
    handler(req, res, url);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    seen,
    total: () => seen.length,
    close: async () => {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

export const json = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

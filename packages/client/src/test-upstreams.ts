// Real upstreams for the client's fault tests, all on loopback: scripted HTTP(S) servers, raw TCP
// servers for protocol-level faults, a port that refuses connections and one that never accepts.
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import { createServer as createNetServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Worker } from 'node:worker_threads';
import type { Endpoint, Resolver, ResolverStatus } from '@gatehousejs/discovery';
import { afterEach } from 'vitest';
import type { Balancer } from './balancer.js';
import { type Client, type ClientOptions, createClient } from './client.js';

/** One request as an upstream saw it. */
export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** `performance.now()` at arrival. */
  readonly at: number;
  /** Requests in flight on this upstream at arrival, this one included. */
  readonly concurrent: number;
  /** The client certificate's subject CN, on a TLS upstream that asked for one. */
  readonly clientCn?: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** An HTTP(S) server whose behaviour a test can change between requests. */
export interface Upstream {
  /** `http://127.0.0.1:port` (or https). */
  readonly url: string;
  readonly port: number;
  /** The id `staticResolver` gives it: `127.0.0.1:port`. */
  readonly id: string;
  /** What answers: replace it to make the upstream fail, slow down or recover. */
  handler: Handler;
  readonly seen: Seen[];
  /** Requests received, optionally only those for `path`. */
  hits(path?: string): number;
  readonly inflight: number;
  readonly maxInflight: number;
  /** Destroys every connection, then stops listening. */
  close(): Promise<void>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Answers `status` with a small body naming the upstream. */
export const answer =
  (status = 200, delayMs = 0): Handler =>
  async (_req, res) => {
    if (delayMs > 0) await sleep(delayMs);
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(`${status}`);
  };

function track(server: Server): () => Promise<void> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // TLS servers hand the raw socket to 'connection' too, so this sees every connection.
  return async () => {
    for (const socket of sockets) socket.destroy();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Starts an HTTP (or, with `tls`, HTTPS) upstream on a free loopback port. */
export async function startUpstream(handler: Handler = answer(), tls?: HttpsOptions): Promise<Upstream> {
  const seen: Seen[] = [];
  let inflight = 0;
  let maxInflight = 0;
  const upstream = {
    handler,
    seen,
    hits: (path?: string) => (path === undefined ? seen.length : seen.filter((s) => s.path === path).length),
    get inflight() {
      return inflight;
    },
    get maxInflight() {
      return maxInflight;
    },
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    inflight++;
    maxInflight = Math.max(maxInflight, inflight);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      inflight--;
    };
    res.once('close', end);
    const peer = (req.socket as Partial<TLSSocket>).getPeerCertificate?.();
    const cn = peer?.subject?.CN;
    seen.push({
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      at: performance.now(),
      concurrent: inflight,
      ...(typeof cn === 'string' ? { clientCn: cn } : {}),
    });
    let result: unknown;
    try {
      result = upstream.handler(req, res);
    } catch {
      res.destroy();
    }
    // A handler that does not read the body still lets the request finish.
    if (req.listenerCount('data') === 0) req.resume();
    Promise.resolve(result).catch(() => res.destroy());
  };
  const server = tls === undefined ? createHttpServer(onRequest) : createHttpsServer(tls, onRequest);
  // Keep-alive sockets must not outlive a test; `close()` destroys them.
  server.keepAliveTimeout = 60_000;
  const close = track(server);
  const port = await listen(server);
  return Object.assign(upstream, {
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    id: `127.0.0.1:${port}`,
    close,
  });
}

/** A TCP server that speaks no HTTP by itself: each connection goes to `onSocket`. */
export interface RawUpstream {
  readonly url: string;
  readonly port: number;
  readonly id: string;
  /** Connections accepted. */
  readonly connections: number;
  /** Requests whose head (up to the blank line) arrived. */
  readonly requests: number;
  close(): Promise<void>;
}

/**
 * Starts a raw TCP upstream; `onHead` runs once per connection when the first request head arrived
 * (the socket is paused for nothing: later bytes are ignored).
 */
export async function startRaw(onHead: (socket: Socket, head: string) => void): Promise<RawUpstream> {
  let connections = 0;
  let requests = 0;
  const server = createNetServer((socket) => {
    connections++;
    let buffered = '';
    let done = false;
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      done = true;
      requests++;
      onHead(socket, buffered.slice(0, end));
    });
  });
  const close = track(server);
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    id: `127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    get requests() {
      return requests;
    },
    close,
  };
}

/** A loopback port nothing listens on (taken, then released), so connecting is refused at once. */
export async function refusedPort(): Promise<number> {
  const server = createNetServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A loopback listener that never accepts: a worker thread listens with a backlog of 1, fills the
 * accept queue, then blocks its event loop, so the kernel drops further SYNs and a connect attempt
 * hangs until the client's connect timeout. (A non-routable address would do the same, but tests
 * may only send traffic to this machine.)
 */
export async function startBlackHole(): Promise<{ url: string; id: string; close(): Promise<void> }> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const server = require('node:net').createServer();
     server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(workerData, 0, 0);
       process.exit(0);
     });`,
    { eval: true, workerData: gate },
  );
  const [port] = (await once(worker, 'message')) as [number];
  // Two connections the blocked loop never accepts fill a backlog of 1 (Linux queues backlog + 1).
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    fillers.push(socket);
  }
  // Prove it: one more connect must not complete.
  const probe = tcpConnect(port, '127.0.0.1');
  probe.on('error', () => {});
  const connected = await Promise.race([
    once(probe, 'connect').then(() => true),
    sleep(200).then(() => false),
  ]);
  probe.destroy();
  const close = async () => {
    for (const socket of fillers) socket.destroy();
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await worker.terminate();
  };
  if (connected) {
    await close();
    throw new Error('the black hole accepted a connection: the kernel did not honour the backlog');
  }
  return { url: `http://127.0.0.1:${port}`, id: `127.0.0.1:${port}`, close };
}

/** A balancer that takes the first of `ids` among the candidates (else the first candidate), so a test decides where each attempt goes. */
export function preferring(...ids: string[]): Balancer {
  return {
    name: 'preferring',
    pick(candidates) {
      for (const id of ids) {
        const found = candidates.find((c) => c.id === id);
        if (found !== undefined) return found;
      }
      return candidates[0]!;
    },
  };
}

/** An endpoint for `url` (`http://127.0.0.1:port`), with extra fields (zone, priority). */
export function endpointOf(
  url: string,
  extra: Partial<Omit<Endpoint, 'host' | 'port' | 'protocol'>> = {},
): Endpoint {
  const parsed = new URL(url);
  const port = Number(parsed.port);
  return Object.freeze({
    id: `${parsed.hostname}:${port}`,
    protocol: parsed.protocol as Endpoint['protocol'],
    host: parsed.hostname,
    port,
    weight: 1,
    priority: 0,
    ...extra,
  });
}

/** A resolver whose endpoints a test replaces with `set`, as discovery would on a change. */
export interface MutableResolver extends Resolver {
  set(endpoints: readonly Endpoint[]): void;
}

export function mutableResolver(initial: readonly Endpoint[]): MutableResolver {
  let endpoints = initial;
  const listeners = new Set<(list: readonly Endpoint[]) => void>();
  const status: ResolverStatus = { stale: false };
  return {
    name: 'test:mutable',
    current: () => endpoints,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    ready: async () => endpoints,
    status: () => status,
    close: async () => listeners.clear(),
    set(next) {
      endpoints = next;
      for (const listener of listeners) listener(next);
    },
  };
}

/** Polls `condition` every `intervalMs` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 3_000, intervalMs = 10 } = {},
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Runs `fn` and tells how long it took, in ms. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

/** The error `promise` rejects with (fails the test if it resolves). */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string; status?: number };
  }
  throw new Error('expected a rejection, the call succeeded');
}

/**
 * Per-test upstreams and clients, torn down after each test: upstreams first (destroying their
 * connections ends any call still waiting on them), then clients.
 */
export function useFixtures() {
  const upstreams: Array<{ close(): Promise<void> }> = [];
  const clients: Client[] = [];
  afterEach(async () => {
    await Promise.all(upstreams.splice(0).map((u) => u.close()));
    await Promise.all(clients.splice(0).map((c) => Promise.race([c.close(), sleep(2_000)])));
  });
  return {
    async upstream(handler?: Handler, tls?: HttpsOptions): Promise<Upstream> {
      const u = await startUpstream(handler, tls);
      upstreams.push(u);
      return u;
    },
    async raw(onHead: (socket: Socket, head: string) => void): Promise<RawUpstream> {
      const u = await startRaw(onHead);
      upstreams.push(u);
      return u;
    },
    async blackHole() {
      const u = await startBlackHole();
      upstreams.push(u);
      return u;
    },
    client(options: ClientOptions): Client {
      const c = createClient(options);
      clients.push(c);
      return c;
    },
  };
}

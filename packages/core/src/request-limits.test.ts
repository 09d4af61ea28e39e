import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { ensureExchange } from './exchange.js';
import { Gateway } from './gateway.js';
import { writeRendered } from './problem.js';
import { hardenServer, requestRejection } from './request-limits.js';
import { problem } from './run.js';

/** A request head as Node hands it over: only `rawHeaders` is read. */
const head = (rawHeaders: string[]) => ({ rawHeaders }) as unknown as IncomingMessage;
const fields = (n: number) => Array.from({ length: n }, (_, i) => [`x-f${i}`, 'v']).flat();
const codeOf = (rejection: unknown) => (rejection as { code?: string } | undefined)?.code;

describe('requestRejection', () => {
  test('allows exactly maxHeaders fields and refuses one more with 431', () => {
    expect(requestRejection(head(['host', 'a', ...fields(99)]), { maxHeaders: 100 })).toBeUndefined();
    const refused = requestRejection(head(['host', 'a', ...fields(100)]), { maxHeaders: 100 });
    expect(codeOf(refused)).toBe('GH_REQUEST_TOO_MANY_HEADERS');
    expect((refused as { status: number }).status).toBe(431);
    // The default is 100.
    expect(codeOf(requestRejection(head(fields(101)), undefined))).toBe('GH_REQUEST_TOO_MANY_HEADERS');
    expect(requestRejection(head(fields(100)), undefined)).toBeUndefined();
  });

  test('refuses a second Host line in any case, and a Host holding a list, with 400', () => {
    for (const raw of [
      ['host', 'a', 'host', 'b'],
      ['Host', 'a', 'HOST', 'a'],
      ['host', 'a', 'x', '1', 'hOsT', 'a'],
      ['host', 'a, b'],
      ['Host', 'a.example,evil.example'],
    ]) {
      const rejection = requestRejection(head(raw), { maxHeaders: 100 });
      expect(codeOf(rejection), JSON.stringify(raw)).toBe('GH_REQUEST_HOST_INVALID');
      expect((rejection as { status: number }).status).toBe(400);
    }
    for (const raw of [['host', 'a.example:8080'], ['x-host', 'a', 'host', 'b', 'hosts', 'c'], []]) {
      expect(requestRejection(head(raw), { maxHeaders: 100 }), JSON.stringify(raw)).toBeUndefined();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Over real sockets: a server that answers through the exchange, as every Gatehouse middleware does.

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
});

async function start(gateway: Gateway, serve: 'serve' | 'plain', when: 'before' | 'after' = 'before') {
  const server = createServer((req, res) => {
    const exchange = ensureExchange(req, res, gateway);
    if (exchange.rejection !== undefined) writeRendered(res, problem(exchange, exchange.rejection));
    else res.end(`fields: ${req.rawHeaders.length / 2}`);
  });
  servers.push(server);
  if (serve === 'serve' && when === 'before') gateway.serve(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  if (serve === 'serve' && when === 'after') gateway.serve(server);
  return { server, port: (server.address() as AddressInfo).port };
}

/** Sends raw bytes; resolves with everything the server wrote once it closes the connection. */
function exchangeBytes(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(data));
    socket.write(text);
  });
}

const requestWith = (n: number, extra = '') =>
  `GET /x HTTP/1.1\r\nhost: t\r\nconnection: close\r\n${extra}${Array.from(
    { length: n },
    (_, i) => `x-f${i}: v\r\n`,
  ).join('')}\r\n`;
const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
const bodyOf = (response: string) => response.slice(response.indexOf('\r\n\r\n') + 4);

describe('too many header fields', () => {
  test('without serve(): the exchange refuses them although Node dropped fields beyond its own limit', async () => {
    const { port } = await start(new Gateway({ limits: { maxHeaders: 50 } }), 'plain');
    // Node alone keeps at most 1,000 fields here: beyond them Node 20 drops the rest without a word
    // and Node 24.21 answers a bare 431 itself (only serve() can help that: the next test).
    for (const n of [47, 48]) {
      const ok = await exchangeBytes(port, requestWith(n));
      expect(statusOf(ok), `${n + 2} fields`).toBe(200);
    }
    for (const n of [49, 900]) {
      const refused = await exchangeBytes(port, requestWith(n));
      expect(statusOf(refused), `${n + 2} fields`).toBe(431);
      expect(refused).toMatch(/content-type: application\/problem\+json/i);
      expect(JSON.parse(bodyOf(refused))).toMatchObject({
        code: 'GH_REQUEST_TOO_MANY_HEADERS',
        status: 431,
        detail: 'The request has more than 50 header fields',
      });
    }
  });

  test('with serve(): Node collects every field, so each request over the limit gets the problem', async () => {
    const gateway = new Gateway({ limits: { maxHeaders: 50 } });
    const { server, port } = await start(gateway, 'serve');
    expect(server.maxHeadersCount).toBe(0);
    expect(bodyOf(await exchangeBytes(port, requestWith(48)))).toBe('fields: 50');
    // 1,500 fields: beyond Node's own count (Node 24.21 would answer a bare 431 itself), within its
    // head size limit.
    for (const n of [49, 200, 1_100, 1_500]) {
      const refused = await exchangeBytes(port, requestWith(n));
      expect(statusOf(refused), `${n + 2} fields`).toBe(431);
      expect(JSON.parse(bodyOf(refused))).toMatchObject({
        code: 'GH_REQUEST_TOO_MANY_HEADERS',
        detail: 'The request has more than 50 header fields',
      });
    }
  });
});

describe('Host', () => {
  test('two Host lines are refused with 400 over a socket', async () => {
    const { port } = await start(new Gateway(), 'plain');
    const refused = await exchangeBytes(
      port,
      'GET /x HTTP/1.1\r\nHost: a\r\nhost: b\r\nconnection: close\r\n\r\n',
    );
    expect(statusOf(refused)).toBe(400);
    expect(JSON.parse(bodyOf(refused))).toMatchObject({ code: 'GH_REQUEST_HOST_INVALID' });
    const ok = await exchangeBytes(port, 'GET /x HTTP/1.1\r\nHost: a\r\nconnection: close\r\n\r\n');
    expect(statusOf(ok)).toBe(200);
  });
});

describe('server timeouts set by serve()', () => {
  test('hardened defaults, and the configured values', async () => {
    const { server } = await start(new Gateway(), 'serve');
    expect({
      headersTimeout: server.headersTimeout,
      requestTimeout: server.requestTimeout,
      keepAliveTimeout: server.keepAliveTimeout,
      maxHeadersCount: server.maxHeadersCount,
    }).toEqual({
      headersTimeout: 10_000,
      requestTimeout: 60_000,
      keepAliveTimeout: 5_000,
      maxHeadersCount: 0,
    });
    const configured = await start(
      new Gateway({
        limits: {
          maxHeaders: 20,
          headersTimeoutMs: 2_000,
          requestTimeoutMs: 4_000,
          keepAliveTimeoutMs: 65_000,
        },
      }),
      'serve',
    );
    expect(configured.server.headersTimeout).toBe(2_000);
    expect(configured.server.requestTimeout).toBe(4_000);
    expect(configured.server.keepAliveTimeout).toBe(65_000);
    expect(configured.server.maxHeadersCount).toBe(0);
  });

  // Node's own defaults would keep this connection for 60 s (headersTimeout), checked every 30 s.
  test.each(['before', 'after'] as const)(
    'a slowloris client is answered 408 and disconnected within the headers timeout (served %s listening)',
    async (when) => {
      const gateway = new Gateway({ limits: { headersTimeoutMs: 400 } });
      const { port } = await start(gateway, 'serve', when);
      const socket = connect(port, '127.0.0.1');
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk.toString('latin1');
      });
      socket.on('error', () => {});
      await once(socket, 'connect');
      const opened = performance.now();
      socket.write('GET /x HTTP/1.1\r\nhost: t\r\n');
      // One more header line every 100 ms, never the blank line that ends the head.
      let i = 0;
      const drip = setInterval(() => {
        if (!socket.destroyed) socket.write(`x-drip-${i++}: 1\r\n`);
      }, 100);
      try {
        await closed(socket, 3_000);
      } finally {
        clearInterval(drip);
      }
      const lived = performance.now() - opened;
      expect(i, 'the client kept dripping until cut').toBeGreaterThanOrEqual(3);
      expect(lived).toBeGreaterThanOrEqual(390);
      // The timeout plus one connection check (a quarter of it) and scheduling slack.
      expect(lived).toBeLessThan(1_500);
      expect(statusOf(data)).toBe(408);
      expect(JSON.parse(bodyOf(data))).toMatchObject({ code: 'GH_REQUEST_TIMEOUT' });
    },
  );

  test('an idle keep-alive connection is closed after keepAliveTimeoutMs', async () => {
    const gateway = new Gateway({ limits: { keepAliveTimeoutMs: 200 } });
    const { port } = await start(gateway, 'serve');
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
    });
    socket.write('GET /x HTTP/1.1\r\nhost: t\r\n\r\n');
    const opened = performance.now();
    await closed(socket, 3_000);
    expect(statusOf(data)).toBe(200);
    // Node keeps a second of slack beyond the timeout; its default would be 5 s.
    expect(performance.now() - opened).toBeGreaterThanOrEqual(190);
    expect(performance.now() - opened).toBeLessThan(2_500);
  });
});

function closed(socket: Socket, withinMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${withinMs} ms`));
    }, withinMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('hardenServer', () => {
  test('never loosens a stricter timeout set on the server, and keeps a keep-alive set on purpose', () => {
    const server = createServer();
    server.headersTimeout = 2_000;
    server.requestTimeout = 0; // none: the configured one applies
    server.keepAliveTimeout = 65_000; // above a load balancer's idle timeout
    hardenServer(server, {
      maxHeaders: 10,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 5_000,
    });
    expect(server.headersTimeout).toBe(2_000);
    expect(server.requestTimeout).toBe(60_000);
    expect(server.keepAliveTimeout).toBe(65_000);
    expect(server.maxHeadersCount).toBe(0);
  });

  test('shortens how often Node checks connections, never lengthens it', () => {
    const server = createServer() as Server & { connectionsCheckingInterval: number };
    hardenServer(server, {
      maxHeaders: 10,
      headersTimeoutMs: 2_000,
      requestTimeoutMs: 3_000,
      keepAliveTimeoutMs: 1,
    });
    expect(server.connectionsCheckingInterval).toBe(500);
    const quick = createServer({ connectionsCheckingInterval: 50 }) as Server & {
      connectionsCheckingInterval: number;
    };
    hardenServer(quick, {
      maxHeaders: 10,
      headersTimeoutMs: 2_000,
      requestTimeoutMs: 3_000,
      keepAliveTimeoutMs: 1,
    });
    expect(quick.connectionsCheckingInterval).toBe(50);
  });
});

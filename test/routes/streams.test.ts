// Streams through the routes, on Express and Koa over real sockets: server-sent events arrive as the
// service writes them, WebSocket upgrades pass through only where a route allows them, and a large
// response arrives intact.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { request as rawRequest } from '../support/raw-http.js';
import { echo, startUpstream, type Upstream } from './harness.js';
import {
  type App,
  closeBoth,
  closedPort,
  expectProblemOnBoth,
  FRAMEWORKS,
  type Framework,
  sha256,
  startBoth,
  upgradeRequest,
  waitFor,
  within,
} from './support.js';

const EVENT_GAP_MS = 300;
const BIG = randomBytes(5 * 1024 * 1024);

let service: Upstream;
let sockets: WebSocketServer;
let apps: Record<Framework, App>;
/** When the service wrote its second event, per request URL. */
const secondWrittenAt = new Map<string, number>();
/** What the WebSocket service saw, per connection URL. */
const wsSeen = new Map<string, { messages: string[]; closed?: { code: number; reason: string } }>();

beforeAll(async () => {
  service = await startUpstream((req, res, body) => {
    const url = req.url ?? '';
    if (url.startsWith('/events/')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: 1\n\n');
      setTimeout(() => {
        secondWrittenAt.set(url, performance.now());
        res.end('data: 2\n\n');
      }, EVENT_GAP_MS);
    } else if (url.startsWith('/big/')) {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(BIG.length),
      });
      res.end(BIG);
    } else if (url.startsWith('/big-chunked/')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let at = 0; at < BIG.length; at += 256 * 1024) res.write(BIG.subarray(at, at + 256 * 1024));
      res.end();
    } else echo(req, res, body);
  });
  sockets = new WebSocketServer({ server: service.server });
  sockets.on('connection', (ws, req) => {
    const seen: { messages: string[]; closed?: { code: number; reason: string } } = { messages: [] };
    wsSeen.set(req.url ?? '', seen);
    ws.send('welcome');
    ws.on('message', (data) => {
      const text = String(data);
      seen.messages.push(text);
      if (text === 'close-me') ws.close(4001, 'service done');
      else ws.send(`echo:${text}`);
    });
    ws.on('close', (code, reason) => {
      seen.closed = { code, reason: String(reason) };
    });
  });
  const down = `http://127.0.0.1:${await closedPort()}`;
  apps = await startBoth({
    config: { services: { svc: { url: service.url }, down: { url: down } } },
    routes: {
      table: [
        { name: 'events', path: '/events/*', service: 'svc' },
        { name: 'big', path: '/big/*', service: 'svc' },
        { name: 'big-chunked', path: '/big-chunked/*', service: 'svc' },
        { name: 'ws', path: '/ws/*', service: 'svc', websocket: true },
        { name: 'ws-off', path: '/plain/*', service: 'svc' },
        { name: 'ws-down', path: '/ws-down/*', service: 'down', websocket: true },
      ],
    },
  });
});

afterAll(async () => {
  for (const client of sockets?.clients ?? []) client.terminate();
  sockets?.close();
  await service?.close();
  await closeBoth(apps);
});

describe('server-sent events', () => {
  it('each event reaches the client as the service writes it', async () => {
    for (const fw of FRAMEWORKS) {
      const url = `/events/${fw}`;
      const res = await request(`${apps[fw].url}${url}`);
      expect(res.statusCode, fw).toBe(200);
      expect(res.headers['content-type'], fw).toBe('text/event-stream');
      const chunks: Array<{ text: string; at: number }> = [];
      await within(
        (async () => {
          for await (const chunk of res.body) chunks.push({ text: String(chunk), at: performance.now() });
        })(),
        3_000,
        `${fw}: the event stream`,
      );
      expect(chunks.map((c) => c.text).join(''), fw).toBe('data: 1\n\ndata: 2\n\n');
      expect(chunks[0]!.text, `${fw}: the first chunk is the first event alone`).toBe('data: 1\n\n');
      const second = secondWrittenAt.get(url);
      expect(second, fw).toBeDefined();
      expect(chunks[0]!.at, `${fw}: the first event arrived before the second was written`).toBeLessThan(
        second!,
      );
    }
  });
});

describe('WebSocket', () => {
  it('passes through on a route with websocket: true, both ways, and a close from either side propagates', async () => {
    for (const fw of FRAMEWORKS) {
      const url = `/ws/chat-${fw}`;
      const ws = new WebSocket(`ws://127.0.0.1:${apps[fw].port}${url}`);
      const received: string[] = [];
      ws.on('message', (data) => received.push(String(data)));
      await within(once(ws, 'open'), 3_000, `${fw}: the upgrade`);
      await waitFor(() => received.includes('welcome'), 3_000, `${fw}: the service's first message`);
      ws.send('hello');
      await waitFor(() => received.includes('echo:hello'), 3_000, `${fw}: the echo`);
      const closed = once(ws, 'close');
      ws.close(1000, 'client done');
      const [code] = await within(closed, 3_000, `${fw}: the close handshake`);
      expect(code, fw).toBe(1000);
      await waitFor(
        () => wsSeen.get(url)?.closed !== undefined,
        3_000,
        `${fw}: the service to see the close`,
      );
      expect(wsSeen.get(url), fw).toEqual({
        messages: ['hello'],
        closed: { code: 1000, reason: 'client done' },
      });

      // The service closing is seen by the client, with its code and reason.
      const second = new WebSocket(`ws://127.0.0.1:${apps[fw].port}/ws/second-${fw}`);
      await within(once(second, 'open'), 3_000, `${fw}: the second upgrade`);
      const ended = once(second, 'close');
      second.send('close-me');
      const [serviceCode, reason] = await within(ended, 3_000, `${fw}: the service's close`);
      expect([serviceCode, String(reason)], fw).toEqual([4001, 'service done']);
    }
  });

  it('an upgrade on a route without websocket: true is served as a plain request, never upgraded', async () => {
    const before = wsSeen.size;
    for (const fw of FRAMEWORKS) {
      const res = await rawRequest(apps[fw].port, upgradeRequest('/plain/x'));
      expect(res.status, fw).not.toBe(101);
      expect(res.headers.connection, fw).toEqual(['close']);
    }
    expect(wsSeen.size).toBe(before);
  });

  it('an h2c upgrade (curl --http2) on a local path is answered by the application over HTTP/1.1', async () => {
    for (const fw of FRAMEWORKS) {
      const res = await rawRequest(apps[fw].port, {
        path: '/somewhere/local',
        headers: {
          connection: 'Upgrade, HTTP2-Settings',
          upgrade: 'h2c',
          'http2-settings': 'AAMAAABkAAQAoAAAAAIAAAAA',
        },
      });
      expect(res.status, fw).toBe(200);
      expect(res.json, fw).toMatchObject({ side: 'local', method: 'GET', url: '/somewhere/local' });
    }
  });

  it('an upgrade to a service that is down is 503 problem+json and the socket closes', async () => {
    // sendRaw settles only once the gateway closes the connection.
    await expectProblemOnBoth(apps, upgradeRequest('/ws-down/x'), {
      status: 503,
      code: 'GH_UPSTREAM_UNAVAILABLE',
    });
  });
});

describe('large responses', () => {
  it.each(['big', 'big-chunked'])('a 5 MB response (%s) streams through intact', async (route) => {
    for (const fw of FRAMEWORKS) {
      const res = await request(`${apps[fw].url}/${route}/${fw}`);
      expect(res.statusCode, fw).toBe(200);
      const body = Buffer.from(await within(res.body.arrayBuffer(), 5_000, `${fw}: the body`));
      expect(body.length, fw).toBe(BIG.length);
      expect(sha256(body), fw).toBe(sha256(BIG));
    }
  });
});

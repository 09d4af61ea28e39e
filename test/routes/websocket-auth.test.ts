// Upgrades never reach the framework's middleware, so `gw.routes()` runs the gateway's `gw.auth()` on
// them itself: an anonymous WebSocket to a protected route is refused with the same problem on both
// frameworks, an authenticated one passes with the forwarded identity and no client-sent identity.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiKeyAuthenticator } from '@gatehousejs/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  type App,
  closeBoth,
  expectProblemOnBoth,
  FRAMEWORKS,
  type Framework,
  startBoth,
  upgradeRequest,
  within,
} from './support.js';

const KEY = 'gh_ws_test_key_0123456789abcdef';
let service: Server;
let sockets: WebSocketServer;
const seen: IncomingHttpHeaders[] = [];
let apps: Record<Framework, App>;

beforeAll(async () => {
  service = createServer((_req, res) => res.end());
  sockets = new WebSocketServer({ server: service });
  sockets.on('connection', (ws, req) => {
    seen.push(req.headers);
    ws.on('message', (data) => ws.send(`echo:${String(data)}`));
  });
  service.listen(0, '127.0.0.1');
  await once(service, 'listening');
  const port = (service.address() as AddressInfo).port;
  apps = await startBoth({
    config: { services: { chat: { url: `http://127.0.0.1:${port}` } } },
    before: (gw) => [
      gw.auth({
        methods: [apiKeyAuthenticator({ keys: [{ key: KEY, id: 'alice', scopes: ['chat'] }] })],
        rules: [{ path: '/chat/*', scopes: ['chat'] }],
        default: 'anonymous',
        forward: { headers: { 'x-user-id': 'id' } },
      }),
    ],
    routes: { table: [{ name: 'chat', path: '/chat/*', service: 'chat', websocket: true }] },
  });
});

afterAll(async () => {
  for (const client of sockets?.clients ?? []) client.terminate();
  sockets?.close();
  service?.closeAllConnections();
  service?.close();
  await closeBoth(apps);
});

const upgrade = (headers: Record<string, string> = {}, path = '/chat/room') => upgradeRequest(path, headers);

describe('WebSocket upgrades and gw.auth()', () => {
  it('an anonymous upgrade to a protected route is 401 problem+json, and never reaches the service', async () => {
    const answers = await expectProblemOnBoth(apps, upgrade({ 'x-user-id': 'mallory' }), {
      status: 401,
      code: 'GH_AUTH_REQUIRED',
    });
    for (const fw of FRAMEWORKS) {
      // Written on the raw socket: one Content-Length, the request id, and the connection closed.
      expect(answers[fw].headers['content-length'], fw).toHaveLength(1);
      expect(answers[fw].headers['x-request-id']?.[0], fw).toBe(
        (answers[fw].json as { requestId: string }).requestId,
      );
      expect(answers[fw].headers.connection, fw).toEqual(['close']);
    }
    expect(seen).toHaveLength(0);
  });

  it('an upgrade whose path is refused at the edge gets the same 400 problem as any request', async () => {
    await expectProblemOnBoth(apps, upgrade({}, '/chat/a%2fb'), {
      status: 400,
      code: 'GH_PATH_ENCODED_SLASH',
    });
    expect(seen).toHaveLength(0);
  });

  it('an authenticated upgrade passes, with the identity the gateway forwards', async () => {
    for (const fw of FRAMEWORKS) {
      const ws = new WebSocket(`ws://127.0.0.1:${apps[fw].port}/chat/room`, {
        headers: { 'x-api-key': KEY, 'x-user-id': 'mallory' },
      });
      await within(once(ws, 'open'), 3_000, `${fw}: the upgrade`);
      const reply = once(ws, 'message');
      ws.send('hi');
      expect(String((await within(reply, 3_000, `${fw}: the echo`))[0]), fw).toBe('echo:hi');
      ws.close();
      expect(seen.at(-1)?.['x-user-id'], fw).toBe('alice');
    }
  });
});

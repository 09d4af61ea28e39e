// A refused WebSocket upgrade is written on the raw socket by gw.routes(), not by an adapter: the
// application's problems.render must see the exchange there too (it decides by path), so a refusal
// reads the same in the application's format as any other, on every framework.
import { apiKeyAuthenticator } from '@gatehousejs/auth';
import type { Exchange, ProblemDocument } from '@gatehousejs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as rawRequest } from '../support/raw-http.js';
import { type App, closeBoth, closedPort, FRAMEWORKS, startBoth, upgradeRequest } from './support.js';

/** What the renderer was given, per call. */
const seen: Array<{ path: string | undefined; code: string }> = [];

/** The application's error format under /chat; undefined elsewhere (RFC 9457 stays). */
function render(problem: ProblemDocument, exchange?: Exchange) {
  seen.push({ path: exchange?.rawPath, code: String(problem.code) });
  if (exchange === undefined || !exchange.rawPath.startsWith('/chat/')) return undefined;
  return { body: { errors: { body: [problem.detail] } } };
}

let apps: Record<(typeof FRAMEWORKS)[number], App>;

beforeAll(async () => {
  const down = await closedPort();
  apps = await startBoth({
    config: { services: { chat: { url: `http://127.0.0.1:${down}` } } },
    gatewayOptions: { problems: { render } },
    before: (gw) => [
      gw.auth({
        methods: [apiKeyAuthenticator({ keys: [{ key: 'gh_ws_render_key_0123456789', id: 'alice' }] })],
        rules: [{ path: '/chat/private/*', anonymous: false }],
        default: 'anonymous',
      }),
    ],
    routes: { table: [{ name: 'chat', path: '/chat/*', service: 'chat', websocket: true }] },
  });
});

afterAll(async () => {
  await closeBoth(apps);
});

describe('problems.render on refused upgrades', () => {
  it.each([
    ['refused by gw.auth()', '/chat/private/room', 401],
    ['refused at the edge (an encoded slash)', '/chat/a%2fb', 400],
    ['the service is down', '/chat/room', 503],
  ])('%s: the renderer gets the exchange and its answer is sent', async (_, path, status) => {
    for (const fw of FRAMEWORKS) {
      seen.length = 0;
      const res = await rawRequest(apps[fw].port, upgradeRequest(path));
      expect(res.status, fw).toBe(status);
      expect(res.headers['content-type']?.[0], fw).toBe('application/json; charset=utf-8');
      const body = res.json as { errors: { body: string[] } };
      expect(body.errors.body, fw).toHaveLength(1);
      expect(body.errors.body[0], fw).toMatch(/\w/);
      expect(
        seen.map((s) => s.path),
        fw,
      ).toEqual([path]);
      // Written on the raw socket: the request id and the connection closed, as for any refusal.
      expect(res.headers['x-request-id'], fw).toHaveLength(1);
      expect(res.headers.connection, fw).toEqual(['close']);
    }
  });
});

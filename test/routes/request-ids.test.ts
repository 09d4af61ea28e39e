// Joinable logs, on every framework: the request id the gateway accepted or generated (gw.requestId())
// reaches the service on every request it sends there — remote, split, fallback, shadow copies —
// under the gateway's `requestId.header`, and a malformed id the client sent never does.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FRAMEWORKS,
  type Framework,
  type RoutesApp,
  startRoutesApp,
  startUpstream,
  type Upstream,
} from './harness.js';
import { waitFor } from './support.js';

describe.each(FRAMEWORKS)('request ids towards the service (%s)', (framework: Framework) => {
  let service: Upstream;
  let app: RoutesApp;
  beforeAll(async () => {
    service = await startUpstream();
    app = await startRoutesApp(framework, {
      config: { services: { orders: { url: service.url } }, requestId: { header: 'x-correlation-id' } },
      before: (gw) => [gw.requestId()],
      routes: {
        table: [
          { name: 'remote', path: '/remote/*', service: 'orders', mode: 'remote' },
          { name: 'split', path: '/split/*', service: 'orders', mode: 'split', weight: 100 },
          { name: 'fallback', path: '/fallback/*', service: 'orders', mode: 'fallback' },
          {
            name: 'shadow',
            path: '/shadow/*',
            service: 'orders',
            mode: 'shadow',
            shadow: { noiseSampleRate: 0 },
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await service?.close();
  });

  /** Sends a request; returns the id the client got back and the one the service received. */
  async function idsFor(path: string, sent?: string) {
    const res = await request(`${app.url}${path}`, {
      method: path.startsWith('/fallback') ? 'POST' : 'GET',
      headers: {
        ...(sent === undefined ? {} : { 'x-correlation-id': sent }),
        ...(path.startsWith('/fallback') ? { 'content-type': 'application/json' } : {}),
      },
      body: path.startsWith('/fallback') ? '{"n":1}' : undefined,
    });
    await res.body.dump();
    await waitFor(() => service.received.some((r) => r.url === path), 3_000, `${path} at the service`);
    const received = service.received.find((r) => r.url === path)!;
    return { answered: res.headers['x-correlation-id'], received: received.headers['x-correlation-id'] };
  }

  for (const side of ['remote', 'split', 'fallback', 'shadow']) {
    it(`${side}: a received id, a generated one, never a malformed one`, async () => {
      expect(await idsFor(`/${side}/kept`, 'client-id-1')).toEqual({
        answered: 'client-id-1',
        received: 'client-id-1',
      });
      const generated = await idsFor(`/${side}/generated`);
      expect(generated.answered).toMatch(/^[0-9a-f-]{36}$/);
      expect(generated.received).toBe(generated.answered);
      const replaced = await idsFor(`/${side}/malformed`, 'bad id with spaces');
      expect(replaced.answered).toMatch(/^[0-9a-f-]{36}$/);
      expect(replaced.received).toBe(replaced.answered);
    });
  }
});

// Shadow diffing against services built the usual ways, on every framework: an Express, a Koa and a
// plain node:http service answering the same JSON as the monolith are equal (media types compared by
// meaning, framework noise in headers not compared), while a difference a client would notice is
// still one; only reads are copied by default; copies are marked for the service; the query of a
// differing request is kept, its values redacted.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
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
import { report, waitFor } from './support.js';

/** What the monolith's `/gz/:id` answers without `Accept-Encoding` (see harness.ts). */
const itemOf = (id: string) => ({ id, name: `item ${id}` });

interface Service {
  url: string;
  /** Marker and request-id headers of the copies received. */
  seen: Array<{ url: string; shadow: string | undefined }>;
  close(): Promise<void>;
}

async function listen(server: Server, seen: Service['seen']): Promise<Service> {
  server.on('request', (req) => {
    seen.push({ url: req.url ?? '', shadow: req.headers['gatehouse-shadow'] as string | undefined });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `/gz/:id` as an Express service writes it: res.json (charset, ETag, X-Powered-By). */
function expressService(): Promise<Service> {
  const app = express();
  app.get('/gz/:id', (req, res) => {
    if (req.params.id === 'text') res.type('text/plain').send(JSON.stringify(itemOf('text')));
    else res.json(itemOf(req.params.id));
  });
  return listen(createServer(app), []);
}

/** The same as Koa writes it: ctx.body = object. */
function koaService(): Promise<Service> {
  const app = new Koa();
  app.use((ctx) => {
    const id = ctx.path.split('/').pop()!;
    if (id === 'text') {
      ctx.type = 'text/plain';
      ctx.body = JSON.stringify(itemOf('text'));
    } else ctx.body = itemOf(id);
  });
  return listen(createServer(app.callback()), []);
}

/** The same from plain node:http: `application/json` without a charset, nothing else. */
function plainService(): Promise<Service> {
  return listen(
    createServer((req, res) => {
      const id = new URL(req.url ?? '/', 'http://x').pathname.split('/').pop()!;
      res.writeHead(200, { 'content-type': id === 'text' ? 'text/plain' : 'application/json' });
      res.end(JSON.stringify(itemOf(id)));
    }),
    [],
  );
}

const KINDS = ['express', 'koa', 'plain'] as const;

describe.each(FRAMEWORKS)(
  'shadow copies of the same JSON from three kinds of service (%s)',
  (framework: Framework) => {
    const services = {} as Record<(typeof KINDS)[number], Service>;
    let app: RoutesApp;
    beforeAll(async () => {
      services.express = await expressService();
      services.koa = await koaService();
      services.plain = await plainService();
      app = await startRoutesApp(framework, {
        config: {
          services: Object.fromEntries(KINDS.map((kind) => [kind, { url: services[kind].url }])),
        },
        routes: {
          table: KINDS.map((kind) => ({
            name: kind,
            path: '/gz/:id',
            headers: { 'x-service': kind },
            service: kind,
            mode: 'shadow' as const,
            shadow: { noiseSampleRate: 0 },
          })),
        },
      });
    });
    afterAll(async () => {
      await app?.close();
      await Promise.all(KINDS.map((kind) => services[kind]?.close()));
    });

    it('are equal: 0 differences, whatever the framework adds to the headers', async () => {
      for (const kind of KINDS) {
        for (const id of ['1', '2', '3']) {
          const res = await request(`${app.url}/gz/${id}?q=${id}`, { headers: { 'x-service': kind } });
          expect(await res.body.json()).toEqual(itemOf(id));
        }
      }
      for (const kind of KINDS) {
        await waitFor(() => report(app, kind).diff.stage.compared === 3, 3_000, `${kind}: three comparisons`);
        expect(report(app, kind).diff.stage, kind).toMatchObject({
          compared: 3,
          equal: 3,
          different: 0,
          fields: {},
        });
        // Each copy was marked as one.
        expect(services[kind].seen.map((s) => s.shadow)).toEqual(['1', '1', '1']);
      }
    });

    it('a difference a client would notice is still one: text/plain instead of JSON', async () => {
      for (const kind of KINDS) {
        const res = await request(`${app.url}/gz/text?email=alice%40example.com&page=2`, {
          headers: { 'x-service': kind },
        });
        await res.body.dump();
        await waitFor(
          () => report(app, kind).diff.stage.compared === 4,
          3_000,
          `${kind}: the fourth comparison`,
        );
        const line = report(app, kind);
        expect(line.diff.stage, kind).toMatchObject({ different: 1, fields: { 'header:content-type': 1 } });
        expect(line.latest[0], kind).toMatchObject({
          method: 'GET',
          path: '/gz/text',
          // The query of the request that differed, its values redacted.
          query: 'email=[redacted]&page=[redacted]',
          differences: [
            {
              path: 'header:content-type',
              local: 'application/json; charset=utf-8',
              remote: expect.stringMatching(/^text\/plain/),
            },
          ],
        });
      }
    });
  },
);

describe.each(FRAMEWORKS)('what is copied, and how copies are marked (%s)', (framework: Framework) => {
  let service: Upstream;
  let app: RoutesApp;
  beforeAll(async () => {
    service = await startUpstream();
    app = await startRoutesApp(framework, {
      config: { services: { orders: { url: service.url } } },
      routes: {
        table: [
          {
            name: 'reads',
            path: '/reads/*',
            service: 'orders',
            mode: 'shadow',
            shadow: { noiseSampleRate: 0 },
          },
          {
            name: 'marked',
            path: '/marked/*',
            service: 'orders',
            mode: 'shadow',
            shadow: { noiseSampleRate: 0, marker: 'x-copy-of' },
          },
          {
            name: 'unmarked',
            path: '/unmarked/*',
            service: 'orders',
            mode: 'shadow',
            shadow: { noiseSampleRate: 0, marker: false },
          },
          { name: 'moved', path: '/moved/*', service: 'orders', mode: 'remote' },
        ],
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await service?.close();
  });

  const send = async (method: string, path: string, headers: Record<string, string> = {}) => {
    const res = await request(`${app.url}${path}`, {
      method: method as 'GET',
      headers:
        method === 'GET' || method === 'HEAD' ? headers : { ...headers, 'content-type': 'application/json' },
      body: method === 'GET' || method === 'HEAD' ? undefined : '{"n":1}',
    });
    await res.body.dump();
    return res.statusCode;
  };

  it('by default only GET and HEAD are copied: a write would apply twice on a shared database', async () => {
    for (const method of ['PUT', 'DELETE', 'POST', 'PATCH'])
      expect(await send(method, `/reads/${method}`)).toBe(200);
    expect(await send('GET', '/reads/get')).toBe(200);
    expect(await send('HEAD', '/reads/head')).toBe(200);
    await waitFor(
      () => service.received.filter((r) => r.url.startsWith('/reads/')).length === 2,
      3_000,
      'two copies',
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(
      service.received
        .filter((r) => r.url.startsWith('/reads/'))
        .map((r) => `${r.method} ${r.url}`)
        .sort(),
    ).toEqual(['GET /reads/get', 'HEAD /reads/head']);
    expect(report(app, 'reads').shadow.skipped.total).toEqual({ method: 4 });
    // The client's own answers all came from local.
    expect(app.local.filter((l) => l.path.startsWith('/reads/')).length).toBe(6);
  });

  it('copies carry the marker (configurable, or none); a client cannot send one to the service', async () => {
    await send('GET', '/reads/1');
    await send('GET', '/marked/1');
    await send('GET', '/unmarked/1');
    // A client's own request, claiming to be a copy, on a remote route and on a shadowed one.
    await send('GET', '/moved/1', { 'gatehouse-shadow': '1', 'x-copy-of': '1' });
    await waitFor(
      () =>
        ['/reads/1', '/marked/1', '/unmarked/1', '/moved/1'].every((url) =>
          service.received.some((r) => r.url === url),
        ),
      3_000,
      'the copies',
    );
    const headersOf = (url: string) => service.received.find((r) => r.url === url)!.headers;
    expect(headersOf('/reads/1')['gatehouse-shadow']).toBe('1');
    expect(headersOf('/marked/1')['x-copy-of']).toBe('1');
    expect(headersOf('/marked/1')['gatehouse-shadow']).toBeUndefined();
    expect(headersOf('/unmarked/1')['gatehouse-shadow']).toBeUndefined();
    expect(headersOf('/moved/1')['gatehouse-shadow']).toBeUndefined();
    // Another route's marker name is that route's business: `moved` strips only its own.
    expect(headersOf('/moved/1')['x-copy-of']).toBe('1');
  });
});

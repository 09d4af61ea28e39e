// toKoa() and errors() on Koa 3 and Koa 2 over real sockets: an answer a middleware writes itself
// (HANDLED) leaves Koa's response alone, and a failure while the adapter writes an asynchronous answer
// rejects the middleware's promise, so errors() answers it as a problem.
import { once } from 'node:events';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HANDLED, type Middleware } from '@gatehousejs/core';
import Koa from 'koa';
import { afterEach, describe, expect, test } from 'vitest';
import { gateway } from './koa.js';

// Koa 2 is installed beside Koa 3 under the npm alias `koa2` (the test workspace's); typed as Koa 3,
// whose API this test shares with it.
const Koa2 = createRequire(import.meta.url)('koa2') as typeof Koa;
const VERSIONS = [
  ['Koa 3', Koa],
  ['Koa 2', Koa2],
] as const;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

function get(port: number, path: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.setTimeout(3_000, () => req.destroy(new Error(`no answer to ${path} within 3 s`)));
      req.on('error', reject);
      req.end();
    },
  );
}

const answers: Middleware = {
  name: 'answers',
  async onRequest(ex) {
    await sleep(1);
    if (ex.path === '/stream') {
      ex.res.writeHead(200, { 'content-type': 'text/plain' });
      ex.res.write('one;');
      setTimeout(() => ex.res.end('two'), 5);
      return HANDLED;
    }
    if (ex.path === '/bad-header')
      return { status: 200, headers: { 'x-note': 'a\r\nb' }, body: 'never sent' };
    return undefined;
  },
};

describe.each(VERSIONS)('%s', (_name, Make) => {
  async function start() {
    const reported: Array<{ message: string; phase: string }> = [];
    const gw = gateway(
      {},
      { onError: (error, { phase }) => reported.push({ message: (error as Error).message, phase }) },
    );
    const app = new Make();
    app.silent = true;
    app.use(gw.errors());
    app.use(gw.use(answers));
    app.use((ctx) => {
      ctx.body = { app: true };
    });
    const server = gw.serve(app.listen(0, '127.0.0.1'));
    await once(server, 'listening');
    closers.push(() => gw.close({ deadlineMs: 500 }));
    return { port: (server.address() as AddressInfo).port, reported };
  }

  test('an answer the middleware writes itself (HANDLED) reaches the client untouched', async () => {
    const app = await start();
    const res = await get(app.port, '/stream');
    expect(res.status).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.body).toBe('one;two');
    expect(app.reported).toEqual([]);
  });

  test('an asynchronous answer Node refuses to write becomes a 500 problem from errors()', async () => {
    const app = await start();
    const res = await get(app.port, '/bad-header');
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.headers['x-note']).toBeUndefined();
    expect(JSON.parse(res.body)).toMatchObject({ code: 'GH_INTERNAL' });
    expect(res.body).not.toContain('never sent');
    expect(app.reported.map((r) => r.phase)).toEqual(['handler']);
    expect(app.reported[0]!.message).toMatch(/Invalid character in header content/);
  });

  test('a request the middleware passes on is answered by the app', async () => {
    const app = await start();
    const res = await get(app.port, '/other');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ app: true });
  });
});

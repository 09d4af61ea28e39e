// toExpress() after an asynchronous onRequest, on Express 5 and Express 4 over real sockets: a failure
// before the rest of the chain was entered goes to next(err) (Express 4 would otherwise leave a
// rejected promise and a hung request), and a failure after it is only reported, never a second next().
import { once } from 'node:events';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Middleware } from '@gatehousejs/core';
import express, { type ErrorRequestHandler } from 'express';
import { afterEach, describe, expect, test } from 'vitest';
import { gateway } from './express.js';

// Express 4 is installed beside Express 5 under the npm alias `express4` (the test workspace's);
// typed as Express 5, whose API this test shares with it.
const express4 = createRequire(import.meta.url)('express4') as typeof express;
const VERSIONS = [
  ['Express 5', express],
  ['Express 4', express4],
] as const;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(3_000, () => req.destroy(new Error(`no answer to ${path} within 3 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** After an await, enters a scope that fails before or after running the rest of the request. */
const failingScope: Middleware = {
  name: 'failingScope',
  async onRequest(ex) {
    await sleep(1);
    ex.enterScope((rest) => {
      if (ex.path === '/before') throw new Error('scope failed before the rest');
      rest();
      throw new Error('scope failed after the rest');
    });
    return undefined;
  },
};

describe.each(VERSIONS)('%s: toExpress() after an async onRequest', (_name, make) => {
  async function start() {
    const reported: Array<{ message: string; phase: string }> = [];
    const seenByErrorHandler: string[] = [];
    let handled = 0;
    const gw = gateway(
      {},
      { onError: (error, { phase }) => reported.push({ message: (error as Error).message, phase }) },
    );
    const app = make();
    app.use(gw.use(failingScope));
    app.get(['/before', '/after'], (_req, res) => {
      handled++;
      // Answers later, so that a second next() (to the error handler) would answer first.
      setTimeout(() => res.json({ handled: true }), 20);
    });
    const record: ErrorRequestHandler = (error: Error, _req, _res, next) => {
      seenByErrorHandler.push(error.message);
      next(error);
    };
    app.use(record, gw.errors());
    const server = gw.serve(app.listen(0, '127.0.0.1'));
    await once(server, 'listening');
    closers.push(() => gw.close({ deadlineMs: 500 }));
    const port = (server.address() as AddressInfo).port;
    return { port, reported, seenByErrorHandler, handled: () => handled };
  }

  test('a failure before the rest of the chain runs reaches the app error handler once', async () => {
    const app = await start();
    const res = await get(app.port, '/before');
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'GH_INTERNAL' });
    expect(res.body).not.toContain('scope failed');
    expect(app.seenByErrorHandler).toEqual(['scope failed before the rest']);
    expect(app.handled()).toBe(0);
    expect(app.reported).toEqual([{ message: 'scope failed before the rest', phase: 'handler' }]);
  });

  test('a failure after the rest of the chain runs is reported, and the route still answers', async () => {
    const app = await start();
    const res = await get(app.port, '/after');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ handled: true });
    expect(app.handled()).toBe(1);
    expect(app.seenByErrorHandler).toEqual([]);
    expect(app.reported).toEqual([
      { message: 'scope failed after the rest', phase: 'failingScope.onRequest' },
    ]);
  });
});

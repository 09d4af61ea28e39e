import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureExchange, INTERNAL_REQUEST_HEADER } from './exchange.js';
import { Gateway } from './gateway.js';

describe('state', () => {
  test('stateIfSet is undefined until something creates the state, then the same object', async () => {
    const gateway = new Gateway();
    const server = createServer((req, res) => {
      const exchange = ensureExchange(req, res, gateway);
      const before = exchange.stateIfSet;
      exchange.state.forwardHeaders = { 'x-user-id': 'u1' };
      res.end(
        JSON.stringify({
          before: before ?? null,
          after: exchange.stateIfSet,
          same: exchange.stateIfSet === exchange.state,
        }),
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(await res.json()).toEqual({
        before: null,
        after: { forwardHeaders: { 'x-user-id': 'u1' } },
        same: true,
      });
    } finally {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  });
});

describe('internal requests (the gateway asking itself)', () => {
  const gateway = new Gateway();
  const server = createServer((req, res) => {
    const exchange = ensureExchange(req, res, gateway);
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({ internal: exchange.internal, header: req.headers[INTERNAL_REQUEST_HEADER] ?? null }),
    );
  });
  let base = '';
  beforeAll(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });
  const ask = async (value?: string) => {
    const res = await fetch(`${base}/x`, {
      headers: value === undefined ? {} : { [INTERNAL_REQUEST_HEADER]: value },
    });
    return (await res.json()) as { internal: boolean; header: string | null };
  };

  test("is internal with this gateway's secret; the header is removed before anything reads it", async () => {
    expect(gateway.internalSecret).toMatch(/^[0-9a-f]{48}$/);
    expect(await ask(gateway.internalSecret)).toEqual({ internal: true, header: null });
  });

  test("a wrong, empty or other gateway's secret marks nothing, and is removed too", async () => {
    expect(await ask('guess')).toEqual({ internal: false, header: null });
    expect(await ask('')).toEqual({ internal: false, header: null });
    expect(await ask(new Gateway().internalSecret)).toEqual({ internal: false, header: null });
    expect(await ask(`${gateway.internalSecret}0`)).toEqual({ internal: false, header: null });
    expect(await ask()).toEqual({ internal: false, header: null });
  });
});

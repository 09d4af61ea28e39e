import { once } from 'node:events';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
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

describe('annotations', () => {
  test('kept in first-set order, a later value replacing an earlier one, also after the map was read', async () => {
    const gateway = new Gateway();
    const server = createServer((req, res) => {
      const exchange = ensureExchange(req, res, gateway);
      const empty = [...exchange.annotations];
      exchange.annotate('a', 1);
      exchange.annotate('b', 'two');
      exchange.annotate('a', 'one');
      const first = [...exchange.annotations];
      const map = exchange.annotations;
      // Set after the map was handed out: the same map shows it, and the old value is replaced.
      exchange.annotate('c', true);
      exchange.annotate('b', 2);
      res.end(
        JSON.stringify({
          empty,
          first,
          later: [...exchange.annotations],
          same: map === exchange.annotations,
          get: exchange.annotations.get('b'),
        }),
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(await res.json()).toEqual({
        empty: [],
        first: [
          ['a', 'one'],
          ['b', 'two'],
        ],
        later: [
          ['a', 'one'],
          ['b', 2],
          ['c', true],
        ],
        same: true,
        get: 2,
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

describe('strippedHeader: what header hygiene removed, kept aside for a signature verifier', () => {
  const gateway = new Gateway({ headers: { strip: ['x-internal-*'] } });
  const server = createServer((req, res) => {
    const exchange = ensureExchange(req, res, gateway);
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        identity: exchange.strippedHeader('x-gatehouse-identity') ?? null,
        internal: exchange.strippedHeader('x-internal-a') ?? null,
        twin: exchange.strippedHeader('x_gatehouse_identity') ?? null,
        kept: exchange.strippedHeader('x-kept') ?? null,
        // The application sees none of the stripped headers, parsed or raw.
        headers: Object.keys(req.headers).sort(),
        raw: req.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()),
      }),
    );
  });
  let port = 0;
  beforeAll(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  // Raw bytes, so that names, case, repetition and underscores are exactly as written.
  const send = (lines: string[]) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c) => chunks.push(c));
      socket.on('error', reject);
      socket.on('end', () => {
        const text = Buffer.concat(chunks).toString('latin1');
        resolve(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>);
      });
      socket.write([`GET / HTTP/1.1`, 'Host: t', ...lines, 'Connection: close', '', ''].join('\r\n'));
    });

  test('values by exact name (any case), repeated ones as a list; nothing reaches the application', async () => {
    const got = await send([
      'X-Gatehouse-Identity: eyJ.a.b',
      'x_gatehouse_identity: twin',
      'x-internal-a: 1',
      'X-INTERNAL-A: 2',
      'x-kept: yes',
    ]);
    expect(got).toEqual({
      identity: 'eyJ.a.b',
      internal: ['1', '2'],
      twin: 'twin',
      kept: null,
      headers: ['connection', 'host', 'x-kept'],
      raw: ['host', 'x-kept', 'connection'],
    });
  });

  test('nothing stripped: undefined', async () => {
    expect(await send(['x-kept: yes'])).toMatchObject({ identity: null, internal: null, kept: null });
  });
});

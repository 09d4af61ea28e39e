// OpenAPI validation inside real applications on every framework: the application's own body parser
// (express.json()/urlencoded(), @koa/bodyparser) still reads the body after validation; responses are
// checked however the framework writes them (res.json, res.send, res.write streams, Koa ctx.body
// objects, strings and streams) in report mode (events, stats, answer untouched) and enforce mode
// (500 problem, a body over the cap released unchecked), with sampling.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { Readable } from 'node:stream';
import { exchangeOf } from '@gatehousejs/core';
import type { FrameworkGateway } from '@gatehousejs/gateway';
import type { OpenApiOptions, OpenApiValidator, ResponseViolation } from '@gatehousejs/openapi';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { afterEach, describe, expect, test } from 'vitest';
import { expressOf, FRAMEWORKS, type Framework, gatewayOf, isExpress, koaOf } from '../support/apps.js';
import { parseResponse, request, serialize } from '../support/raw-http.js';

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const thing = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string' }, n: { type: 'integer' } },
};
const document = {
  openapi: '3.1.0',
  info: { title: 'apps', version: '1' },
  paths: {
    '/items': {
      post: {
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: thing },
            'application/x-www-form-urlencoded': { schema: thing },
          },
        },
        responses: { 200: { description: 'echo', ...json({ type: 'object' }) } },
      },
    },
    // Each of these answers { id } (valid) or { id: 1 } (invalid) as the query says, written in a
    // different way.
    '/json': { get: { responses: { 200: { description: 'res.json / ctx.body object', ...json(thing) } } } },
    '/send': { get: { responses: { 200: { description: 'res.send / ctx.body string', ...json(thing) } } } },
    '/stream': {
      get: { responses: { 200: { description: 'res.write / ctx.body stream', ...json(thing) } } },
    },
  },
  components: {},
};

const body = (valid: boolean) => (valid ? { id: 'a', n: 1 } : { id: 1 });
const chunksOf = (value: unknown, pad = 0) => {
  const text = JSON.stringify({ ...(value as object), pad: 'x'.repeat(pad) });
  return [text.slice(0, 5), text.slice(5, 12), text.slice(12)];
};

interface App {
  port: number;
  validator: OpenApiValidator;
  close(): Promise<void>;
}

async function startApp(fw: Framework, options: Omit<OpenApiOptions, 'document'>): Promise<App> {
  const gw = gatewayOf(fw, {}) as FrameworkGateway<unknown>;
  // The test routes read `?bad` and `?big`, which the document does not declare.
  const validator = gw.validator({ document, requests: { unknownQuery: 'ignore' }, ...options });
  let server: Server;
  const valid = (url: string | undefined) => !(url ?? '').includes('bad');
  const pad = (url: string | undefined) => ((url ?? '').includes('big') ? 4096 : 0);
  if (isExpress(fw)) {
    const express = expressOf(fw);
    const app = express();
    app.set('etag', false);
    app.use(gw.use(validator) as never);
    app.use(express.json(), express.urlencoded({ extended: false }));
    app.post('/items', (req, res) => {
      res.json({ parsed: req.body, validated: exchangeOf(req)?.state.openapi?.body });
    });
    app.get('/json', (req, res) => {
      res.json({ ...body(valid(req.url)), pad: 'x'.repeat(pad(req.url)) });
    });
    app.get('/send', (req, res) => {
      res.type('application/json').send(JSON.stringify(body(valid(req.url))));
    });
    app.get('/stream', (req, res) => {
      res.setHeader('content-type', 'application/json');
      const chunks = chunksOf(body(valid(req.url)), pad(req.url));
      res.write(chunks[0]);
      res.write(Buffer.from(chunks[1]!));
      setImmediate(() => res.end(chunks[2]));
    });
    app.use((gw as unknown as { errors(): never }).errors());
    server = createServer(app);
  } else {
    const app = new (koaOf(fw))();
    app.silent = true;
    app.use((gw as unknown as { errors(): never }).errors());
    app.use(gw.use(validator) as never);
    // With requests.body 'parsed' the stream is consumed: the parser adopts req.body instead.
    app.use(bodyParser({ enableTypes: ['json', 'form'], enableRawChecking: true }));
    const router = new Router();
    router.post('/items', (ctx) => {
      ctx.body = { parsed: ctx.request.body, validated: exchangeOf(ctx.req)?.state.openapi?.body };
    });
    router.get('/json', (ctx) => {
      ctx.body = { ...body(valid(ctx.url)), pad: 'x'.repeat(pad(ctx.url)) };
    });
    router.get('/send', (ctx) => {
      ctx.type = 'application/json';
      ctx.body = JSON.stringify(body(valid(ctx.url)));
    });
    router.get('/stream', (ctx) => {
      ctx.type = 'application/json';
      ctx.body = Readable.from(chunksOf(body(valid(ctx.url)), pad(ctx.url)));
    });
    app.use(router.routes());
    server = createServer(app.callback());
  }
  gw.serve(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  await gw.start();
  return {
    port: (server.address() as AddressInfo).port,
    validator,
    close: () => gw.close({ deadlineMs: 1_000 }),
  };
}

let running: App[] = [];
afterEach(async () => {
  await Promise.all(running.map((a) => a.close()));
  running = [];
});
const start = async (fw: Framework, options: Omit<OpenApiOptions, 'document'> = {}) => {
  const app = await startApp(fw, options);
  running.push(app);
  return app;
};

/**
 * Sends a request in pieces with pauses between them, as a slow client does (each piece its own
 * packet), and reads the answer; `leave` closes the socket after the pieces instead.
 */
function sendInPieces(port: number, pieces: Buffer[], gapMs: number, leave = false) {
  return new Promise<ReturnType<typeof parseResponse>>((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseResponse(Buffer.concat(chunks))));
    const next = (i: number) => {
      if (i === pieces.length) {
        if (leave) socket.destroy();
        return;
      }
      socket.write(pieces[i]!);
      setTimeout(() => next(i + 1), gapMs);
    };
    next(0);
  });
}

describe.each(FRAMEWORKS)('%s', (fw) => {
  test("the application's body parser reads the body after validation", async () => {
    const app = await start(fw);
    const sent = { id: 'abc', n: 3 };
    const viaJson = await request(app.port, {
      method: 'POST',
      path: '/items',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sent),
    });
    expect(viaJson.status).toBe(200);
    expect(viaJson.json).toEqual({ parsed: sent, validated: sent });
    const viaForm = await request(app.port, {
      method: 'POST',
      path: '/items',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'id=abc&n=3',
    });
    // The parser gives text; the validator's copy is coerced to the schema's types.
    expect(viaForm.json).toEqual({ parsed: { id: 'abc', n: '3' }, validated: sent });
    // A chunked body, read and replayed the same way.
    const chunked = await request(app.port, {
      method: 'POST',
      path: '/items',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: `${Buffer.byteLength(JSON.stringify(sent)).toString(16)}\r\n${JSON.stringify(sent)}\r\n0\r\n\r\n`,
    });
    expect(chunked.json).toEqual({ parsed: sent, validated: sent });
    expect(app.validator.stats().requests).toEqual({ validated: 3, rejected: 0 });
  });

  test("requests.body 'parsed': parsed once, the application's parser keeps the validated value", async () => {
    const app = await start(fw, { requests: { unknownQuery: 'ignore', body: 'parsed' } });
    const sent = { id: 'abc', n: 3 };
    const viaJson = await request(app.port, {
      method: 'POST',
      path: '/items',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sent),
    });
    expect(viaJson.json).toEqual({ parsed: sent, validated: sent });
    const viaForm = await request(app.port, {
      method: 'POST',
      path: '/items',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'id=abc&n=3',
    });
    // The coerced value, not the parser's text.
    expect(viaForm.json).toEqual({ parsed: sent, validated: sent });
    const invalid = await request(app.port, {
      method: 'POST',
      path: '/items',
      headers: { 'content-type': 'application/json' },
      body: '{"id":1}',
    });
    expect(invalid.status).toBe(400);
  });

  test('a body that arrives after the headers, in pieces, is read the same way; a client leaving mid-body reaches nothing', async () => {
    const sent = { id: 'late', n: 7 };
    const text = JSON.stringify(sent);
    const whole = serialize({
      method: 'POST',
      path: '/items',
      headers: { 'content-type': 'application/json' },
      body: text,
    });
    const head = whole.subarray(0, whole.length - text.length);
    const pieces = [head, Buffer.from(text.slice(0, 6)), Buffer.from(text.slice(6))];
    for (const mode of ['replay', 'parsed'] as const) {
      const app = await start(fw, { requests: { unknownQuery: 'ignore', body: mode } });
      const answer = await sendInPieces(app.port, pieces, 25);
      expect(answer.status, mode).toBe(200);
      expect(answer.json, mode).toEqual({ parsed: sent, validated: sent });
      // Headers and half the body, then gone: no answer to send, nothing validated, the server
      // still answers the next request.
      const left = await sendInPieces(app.port, pieces.slice(0, 2), 25, true);
      expect(left.empty, mode).toBe(true);
      const after = await request(app.port, {
        method: 'POST',
        path: '/items',
        headers: { 'content-type': 'application/json' },
        body: text,
      });
      expect(after.json, mode).toEqual({ parsed: sent, validated: sent });
      expect(app.validator.stats().requests, mode).toEqual({ validated: 2, rejected: 0 });
    }
  });

  test('report mode: violations are published, answers untouched, whatever way they are written', async () => {
    const app = await start(fw, { responses: { mode: 'report' } });
    const events: ResponseViolation[] = [];
    app.validator.on('response-invalid', (v: ResponseViolation) => events.push(v));
    for (const path of ['/json', '/send', '/stream']) {
      const good = await request(app.port, { path });
      expect(good.status).toBe(200);
      const bad = await request(app.port, { path: `${path}?bad` });
      expect(bad.status, path).toBe(200);
      expect((bad.json as { id: unknown }).id).toBe(1);
    }
    expect(events.map((e) => [e.path, e.mode, e.issues])).toEqual(
      ['/json', '/send', '/stream'].map((path) => [
        path,
        'report',
        [{ in: 'body', pointer: '/id', keyword: 'type', detail: 'must be string' }],
      ]),
    );
    expect(app.validator.stats().responses).toEqual({ checked: 6, invalid: 3, skipped: 0 });
  });

  test('enforce mode: a violating answer becomes a 500 problem; a body over the cap goes out unchecked', async () => {
    const app = await start(fw, { responses: { mode: 'enforce', maxBodyBytes: 1024 } });
    for (const path of ['/json', '/send', '/stream']) {
      const good = await request(app.port, { path });
      expect(good.status, path).toBe(200);
      expect((good.json as { id: unknown }).id).toBe('a');
      const bad = await request(app.port, { path: `${path}?bad` });
      expect(bad.status, path).toBe(500);
      expect(bad.headers['content-type']?.[0]).toBe('application/problem+json');
      expect((bad.json as { code: string }).code).toBe('GH_OPENAPI_RESPONSE_INVALID');
      expect(bad.body.toString()).not.toContain('/id');
    }
    for (const path of ['/json?bad&big', '/stream?bad&big']) {
      const big = await request(app.port, { path });
      expect(big.status, path).toBe(200);
      expect((big.json as { pad: string }).pad).toHaveLength(4096);
    }
    expect(app.validator.stats().responses).toMatchObject({ invalid: 3, skipped: 2 });
  });

  test('sampling 0: nothing is checked', async () => {
    const app = await start(fw, { responses: { mode: 'enforce', sampleRate: 0 } });
    const bad = await request(app.port, { path: '/json?bad' });
    expect(bad.status).toBe(200);
    expect(app.validator.stats().responses.checked).toBe(0);
  });
});

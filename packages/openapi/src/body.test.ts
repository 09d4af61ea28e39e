// Hostile bodies over real sockets: whatever bytes arrive as JSON, form or multipart, the validator
// answers (a 2xx from the handler, or a 400/413/415 problem) and the handler, when reached, still reads
// the whole body from the stream. Driven through core directly (ensureExchange + enter, what the
// adapters do), so no framework is involved.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ensureExchange,
  enter,
  Gateway,
  HANDLED,
  isThenable,
  type Step,
  writeRendered,
} from '@gatehousejs/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseForm, parseMultipart } from './body.js';
import { OpenApiValidator } from './validator.js';

const SEED = 20261204;
const schema = {
  type: 'object',
  properties: { a: { type: 'integer' }, b: { type: 'array', items: { type: 'string' } } },
};
const document = {
  openapi: '3.1.0',
  info: { title: 'bodies', version: '1' },
  paths: {
    '/in': {
      post: {
        requestBody: {
          content: {
            'application/json': { schema },
            'application/x-www-form-urlencoded': { schema },
            'multipart/form-data': { schema },
          },
        },
        responses: { 200: { description: 'ok' } },
      },
    },
  },
};

let server: Server;
let port: number;
const core = new Gateway({});
const validator = new OpenApiValidator({ document, requests: { maxBodyBytes: 4096, maxParts: 20 } });

beforeAll(async () => {
  await validator.start();
  server = createServer((req, res) => {
    const exchange = ensureExchange(req, res, core);
    const handler = () => {
      // The application: reads the whole body from the stream, as any body parser would.
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ read: Buffer.concat(chunks).length }));
      });
    };
    const write = (step: Step) => {
      if (step === undefined) handler();
      else if (step !== HANDLED) writeRendered(res, step);
    };
    const step = enter(exchange, validator);
    if (isThenable<Step>(step)) void step.then(write);
    else write(step);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function send(type: string, body: Uint8Array): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}/in`, {
    method: 'POST',
    headers: { 'content-type': type },
    body,
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) };
}

describe('hostile bodies', () => {
  test('any bytes as JSON, form or multipart: the handler reads them all, or a 400/413 problem', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'application/json',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=xyz',
        ),
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 6000 }),
          fc.json().map((t) => new TextEncoder().encode(t)),
          fc
            .array(fc.tuple(fc.constantFrom('a', 'b', 'c', '__proto__'), fc.string({ maxLength: 20 })), {
              maxLength: 30,
            })
            .map((pairs) => new TextEncoder().encode(new URLSearchParams(pairs).toString())),
        ),
        async (type, body) => {
          const answer = await send(type, body);
          if (answer.status === 200) expect(answer.json).toEqual({ read: body.length });
          else {
            expect([400, 413]).toContain(answer.status);
            expect((answer.json as { code: string }).code).toMatch(
              /^GH_OPENAPI_(REQUEST_INVALID|BODY_MALFORMED|BODY_TOO_LARGE)$/,
            );
          }
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });

  test('found counterexamples, kept', async () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect((await send('application/json', enc('{"a":1}'))).json).toEqual({ read: 7 });
    expect((await send('application/json', enc('{"a":"1"}'))).status).toBe(400);
    expect((await send('application/json', enc('\u0000'))).status).toBe(400);
    expect((await send('application/json', enc('{"__proto__":{"a":"x"}}'))).status).toBe(200);
    expect((await send('application/x-www-form-urlencoded', enc('a=1&b=x&b=y'))).status).toBe(200);
    expect((await send('application/x-www-form-urlencoded', enc('a=1e400'))).status).toBe(400);
    expect((await send('application/x-www-form-urlencoded', enc('a=%zz'))).status).toBe(400);
    expect((await send('multipart/form-data; boundary=xyz', enc('--xyz--\r\n'))).status).toBe(200);
    // Not a multipart body at all (no boundary line): busboy refuses it.
    expect((await send('multipart/form-data; boundary=xyz', enc('garbage'))).status).toBe(400);
    expect((await send('application/json', new Uint8Array(5000))).status).toBe(413);
    // Prototype pollution through any of them leaves Object.prototype alone.
    expect(({} as Record<string, unknown>).a).toBeUndefined();
  });
});

describe('parsers', () => {
  test('form: repeated fields collect where the schema has an array; a repeated scalar becomes an array', () => {
    expect({ ...parseForm(Buffer.from('a=1&b=x&b=y&c=1&c=2'), new Set(['b'])) }).toEqual({
      a: '1',
      b: ['x', 'y'],
      c: ['1', '2'],
    });
    expect(Object.getPrototypeOf(parseForm(Buffer.from('__proto__=1'), new Set()))).toBeNull();
  });

  test('multipart: fields, files as placeholders, and the part limit', async () => {
    const body = Buffer.from(
      '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n' +
        '--b\r\nContent-Disposition: form-data; name="f"; filename="x.bin"\r\nContent-Type: application/octet-stream\r\n\r\nbytes\r\n--b--\r\n',
    );
    const parsed = await parseMultipart(body, 'multipart/form-data; boundary=b', new Set(), 10);
    expect({ ...parsed.fields }).toEqual({ a: '1', f: '<file>' });
    expect(parsed.files).toBe(1);
    await expect(parseMultipart(body, 'multipart/form-data; boundary=b', new Set(), 1)).rejects.toThrow(
      /more than 1 parts/,
    );
    await expect(parseMultipart(body, 'multipart/form-data', new Set(), 10)).rejects.toThrow();
  });
});

// Responses: the check against an operation (status, headers, content type, JSON body, coded bodies),
// and taking the body from a real ServerResponse however it is written (one end, writes and end,
// writeHead first, a stream past the cap, flushHeaders).
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, test } from 'vitest';
import { compileDocument, type Operation } from './compile.js';
import { loadDocument } from './document.js';
import { checkResponse, holdResponse, type ResponseSample, watchResponse } from './response.js';

const document = {
  openapi: '3.1.0',
  info: { title: 'responses', version: '1' },
  paths: {
    '/things/{id}': {
      get: {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          200: {
            description: 'a thing',
            headers: {
              'X-Rate': { required: true, schema: { type: 'integer', maximum: 10 } },
              'Content-Type': { schema: { type: 'string' } },
            },
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['id'],
                  properties: { id: { type: 'string' }, size: { type: 'integer' } },
                },
              },
            },
          },
          '4XX': {
            description: 'problem',
            content: { 'application/problem+json': { schema: { type: 'object' } } },
          },
          204: { description: 'nothing' },
        },
      },
    },
  },
};

let operation: Operation;
const sample = (over: Partial<ResponseSample>): ResponseSample => ({
  status: 200,
  headers: { 'content-type': 'application/json; charset=utf-8', 'x-rate': '5' },
  body: Buffer.from('{"id":"a"}'),
  ...over,
});
const check = (s: ResponseSample) => checkResponse(operation, s, 10, 1 << 20);

describe('checkResponse', async () => {
  operation = compileDocument(await loadDocument(document)).operations[0]!;

  test('a conforming response has no issues', () => {
    expect(check(sample({}))).toEqual([]);
  });

  test('an undocumented status', () => {
    expect(check(sample({ status: 500 }))).toEqual([
      {
        in: 'status',
        name: '500',
        keyword: 'status',
        detail: 'status 500 is not documented for GET /things/{id}',
      },
    ]);
  });

  test('a missing or wrong header, named as documented', () => {
    expect(check(sample({ headers: { 'content-type': 'application/json' } }))).toEqual([
      { in: 'header', name: 'X-Rate', keyword: 'required', detail: 'is required' },
    ]);
    expect(check(sample({ headers: { 'content-type': 'application/json', 'x-rate': 11 } }))[0]).toMatchObject(
      {
        in: 'header',
        name: 'X-Rate',
        keyword: 'maximum',
      },
    );
  });

  test('the body: schema, JSON syntax, content type, range keys', () => {
    expect(check(sample({ body: Buffer.from('{"id":1}') }))).toEqual([
      { in: 'body', pointer: '/id', keyword: 'type', detail: 'must be string' },
    ]);
    expect(check(sample({ body: Buffer.from('{"id":') }))).toEqual([
      { in: 'body', pointer: '', keyword: 'parse', detail: 'the body is not valid JSON' },
    ]);
    expect(check(sample({ headers: { 'content-type': 'text/html', 'x-rate': '1' } }))[0]).toMatchObject({
      in: 'header',
      name: 'Content-Type',
      keyword: 'content-type',
    });
    expect(
      check(
        sample({
          status: 404,
          headers: { 'content-type': 'application/problem+json' },
          body: Buffer.from('{}'),
        }),
      ),
    ).toEqual([]);
  });

  test('a gzip-coded body is checked as what it says', () => {
    const headers = { 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-rate': '1' };
    expect(check(sample({ headers, body: gzipSync('{"id":"a"}') }))).toEqual([]);
    expect(check(sample({ headers, body: gzipSync('{"id":2}') }))[0]).toMatchObject({ pointer: '/id' });
  });

  test('a body too large to keep: status and headers only', () => {
    expect(check(sample({ body: undefined }))).toEqual([]);
  });

  test('a bodiless status documented without content', () => {
    expect(check(sample({ status: 204, headers: {}, body: Buffer.alloc(0) }))).toEqual([]);
    expect(check(sample({ status: 204, headers: {}, body: Buffer.from('x') }))[0]).toMatchObject({
      keyword: 'content',
    });
  });
});

// ----------------------------------------------------------------------------------------------
// Taking responses from a real ServerResponse
// ----------------------------------------------------------------------------------------------

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** Serves one handler; returns what a client received. */
async function serve(
  setup: (res: ServerResponse) => void,
  handler: (res: ServerResponse) => void | Promise<void>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const server = createServer((_req, res) => {
    setup(res);
    void handler(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  close = () => new Promise((resolve) => server.close(() => resolve()));
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

describe('holdResponse', () => {
  test('writeHead, writes and end are held, judged whole, and replaced', async () => {
    const seen: ResponseSample[] = [];
    const answer = await serve(
      (res) =>
        holdResponse(res, 1024, (s, final) => {
          seen.push(s);
          return final
            ? { status: 500, headers: { 'content-type': 'text/plain' }, body: Buffer.from('no') }
            : undefined;
        }),
      (res) => {
        res.writeHead(201, { 'content-type': 'application/json', etag: '"x"' });
        res.write('{"a":');
        res.end('1}');
      },
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]!.status).toBe(201);
    expect(seen[0]!.body?.toString()).toBe('{"a":1}');
    expect(answer).toMatchObject({ status: 500, body: 'no' });
    expect(answer.headers['content-type']).toBe('text/plain');
    expect(answer.headers.etag).toBeUndefined();
  });

  test('a response the judge accepts goes out as written, with a correct length', async () => {
    const answer = await serve(
      (res) => holdResponse(res, 1024, () => undefined),
      (res) => {
        res.statusCode = 202;
        res.setHeader('content-type', 'application/json');
        res.write(Buffer.from('[1,'));
        res.write('2]', 'utf8');
        res.end();
      },
    );
    expect(answer).toMatchObject({ status: 202, body: '[1,2]' });
    expect(answer.headers['content-length']).toBe('5');
  });

  test('a stream past the cap is released as it is and judged after the fact', async () => {
    const finals: boolean[] = [];
    const chunk = 'x'.repeat(400);
    const answer = await serve(
      (res) =>
        holdResponse(res, 1000, (s, final) => {
          finals.push(final);
          expect(s.body).toBeUndefined();
          return undefined;
        }),
      async (res) => {
        res.setHeader('content-type', 'application/json');
        for (let i = 0; i < 5; i++) {
          res.write(chunk);
          await new Promise((r) => setImmediate(r));
        }
        res.end();
      },
    );
    expect(answer.body).toBe(chunk.repeat(5));
    expect(finals).toEqual([false]);
  });

  test('flushHeaders (server-sent events) releases the response', async () => {
    const finals: boolean[] = [];
    const answer = await serve(
      (res) =>
        holdResponse(res, 1 << 20, (_s, final) => {
          finals.push(final);
          return undefined;
        }),
      (res) => {
        res.setHeader('content-type', 'text/event-stream');
        res.flushHeaders();
        res.write('data: 1\n\n');
        res.end();
      },
    );
    expect(answer.body).toBe('data: 1\n\n');
    expect(finals).toEqual([false]);
  });
});

describe('watchResponse', () => {
  test('copies what goes out, untouched, up to the cap', async () => {
    const samples: ResponseSample[] = [];
    const answer = await serve(
      (res) => watchResponse(res, 8, (s) => samples.push(s)),
      (res) => {
        res.setHeader('content-type', 'application/json');
        res.write('{"a":');
        res.end('1}');
      },
    );
    expect(answer.body).toBe('{"a":1}');
    expect(samples[0]!.body?.toString()).toBe('{"a":1}');
    const big = await serve(
      (res) => watchResponse(res, 4, (s) => samples.push(s)),
      (res) => {
        res.end('0123456789');
      },
    );
    expect(big.body).toBe('0123456789');
    expect(samples[1]!.body).toBeUndefined();
  });
});

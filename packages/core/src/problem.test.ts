import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { ConfigError } from './config/validate.js';
import { defineError, GatehouseError, InternalError, isGatehouseError, NotFound } from './errors.js';
import { ensureExchange } from './exchange.js';
import { Gateway } from './gateway.js';
import { renderProblem, renderReply, toGatehouseError } from './problem.js';
import { problem } from './run.js';

const json = (body: Buffer) => JSON.parse(body.toString('utf8')) as Record<string, unknown>;

describe('defineError', () => {
  test('makes a class with a stable code, status and default exposure', () => {
    const Teapot = defineError('GH_UNIT_TEAPOT', 418, 'Teapot');
    const err = new Teapot('short and stout', { headers: { 'Retry-After': '3' } });
    expect(err).toBeInstanceOf(GatehouseError);
    expect(err).toMatchObject({
      code: 'GH_UNIT_TEAPOT',
      status: 418,
      expose: true,
      detail: 'short and stout',
    });
    expect(Teapot.spec.code).toBe('GH_UNIT_TEAPOT');
    expect(err.constructor.name).toBe('GH_UNIT_TEAPOT');
  });

  test('refuses malformed codes and a second meaning for a code', () => {
    expect(() => defineError('rate_limited', 429, 'x')).toThrow(/invalid error code/);
    expect(() => defineError('GH_NOT_FOUND', 410, 'Gone')).toThrow(/another meaning/);
    expect(() => defineError('GH_NOT_FOUND', 404, 'Not found')).not.toThrow();
  });

  test('server errors are not exposed by default', () => {
    expect(new InternalError('db password hunter2').detail).toBe('Internal server error');
  });

  test('the brand works across copies (a plain object carrying the symbol)', () => {
    expect(isGatehouseError(new NotFound())).toBe(true);
    expect(isGatehouseError({ [Symbol.for('gatehouse.error')]: true })).toBe(true);
    expect(isGatehouseError(new Error('x'))).toBe(false);
    expect(isGatehouseError(null)).toBe(false);
  });
});

describe('toGatehouseError', () => {
  test('keeps http-errors statuses and exposure', () => {
    const e = toGatehouseError(Object.assign(new Error('too big'), { status: 413, expose: true }));
    expect(e).toMatchObject({
      code: 'GH_APP_ERROR',
      status: 413,
      title: 'Content Too Large',
      detail: 'too big',
    });
    const s = toGatehouseError(Object.assign(new Error('pool exhausted'), { statusCode: 503 }));
    expect(s).toMatchObject({ status: 503, expose: false, detail: 'Service Unavailable' });
  });

  test('404s become GH_NOT_FOUND; anything else a 500', () => {
    expect(toGatehouseError({ status: 404, message: 'gone' }).code).toBe('GH_NOT_FOUND');
    expect(toGatehouseError({ status: 200 }).code).toBe('GH_INTERNAL');
    expect(toGatehouseError({ status: 700 }).code).toBe('GH_INTERNAL');
    expect(toGatehouseError('a string').code).toBe('GH_INTERNAL');
    expect(toGatehouseError(undefined).code).toBe('GH_INTERNAL');
  });
  test('an error meant only for reports (status 0, a ConfigError) renders as a 500 that says nothing of it', () => {
    const error = new ConfigError([
      { path: 'client(nowhere)', message: 'no service (services: orders, secret-svc)' },
    ]);
    const converted = toGatehouseError(error);
    expect(converted).toBeInstanceOf(InternalError);
    expect(converted.cause).toBe(error);
    const rendered = renderProblem(error);
    expect(rendered.status).toBe(500);
    const text = rendered.body.toString();
    expect(JSON.parse(text).code).toBe('GH_INTERNAL');
    expect(text).not.toMatch(/secret-svc|nowhere|configuration/);
  });
});

describe('renderProblem', () => {
  test('renders RFC 9457 members, the code, the request id and exposed extensions', () => {
    const Limited = defineError('GH_UNIT_LIMITED', 429, 'Too many requests');
    const r = renderProblem(
      new Limited('slow down', {
        headers: { 'Retry-After': '7' },
        extensions: { limit: 10, status: 999, __proto__: 1 },
      }),
      'req-1',
    );
    expect(r.status).toBe(429);
    expect(r.headers).toMatchObject({
      'content-type': 'application/problem+json',
      'retry-after': '7',
      'cache-control': 'no-store',
      'content-length': String(r.body.length),
    });
    expect(json(r.body)).toEqual({
      type: 'urn:gatehouse:error:GH_UNIT_LIMITED',
      title: 'Too many requests',
      status: 429,
      detail: 'slow down',
      code: 'GH_UNIT_LIMITED',
      requestId: 'req-1',
      limit: 10,
    });
  });

  test('never renders the message, cause or extensions of an unexposed error', () => {
    const r = renderProblem(
      new InternalError('secret', { cause: new Error('inner'), extensions: { sql: 'x' } }),
    );
    const body = json(r.body);
    expect(body).toEqual({
      type: 'urn:gatehouse:error:GH_INTERNAL',
      title: 'Internal server error',
      status: 500,
      detail: 'Internal server error',
      code: 'GH_INTERNAL',
    });
  });

  test('uses the configured type base', () => {
    const r = renderProblem(new NotFound(), undefined, { typeBase: 'https://docs.example.com/errors#' });
    expect(json(r.body).type).toBe('https://docs.example.com/errors#GH_NOT_FOUND');
  });
});

describe('renderProblem with an application renderer (problems.render)', () => {
  const Limited = defineError('GH_UNIT_LIMITED_R', 429, 'Too many requests');
  const limited = () =>
    new Limited('slow down', { headers: { 'Retry-After': '7' }, extensions: { limit: 10 } });
  const typeBase = 'urn:gatehouse:error:';

  test("the body and its type are the renderer's; status and headers are not", () => {
    const seen: unknown[] = [];
    const r = renderProblem(limited(), 'req-1', {
      typeBase,
      render: (problem) => {
        seen.push(problem);
        return { body: { errors: { body: [problem.detail] } } };
      },
    });
    expect(seen).toEqual([
      {
        type: 'urn:gatehouse:error:GH_UNIT_LIMITED_R',
        title: 'Too many requests',
        status: 429,
        detail: 'slow down',
        code: 'GH_UNIT_LIMITED_R',
        requestId: 'req-1',
        limit: 10,
      },
    ]);
    expect(Object.isFrozen(seen[0])).toBe(true);
    expect(r.status).toBe(429);
    expect(r.headers).toEqual({
      'retry-after': '7',
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(r.body.length),
      'cache-control': 'no-store',
    });
    expect(json(r.body)).toEqual({ errors: { body: ['slow down'] } });
  });

  test('strings, bytes and a content type of its own', () => {
    const text = renderProblem(limited(), undefined, { typeBase, render: (p) => ({ body: p.title }) });
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(text.body.toString()).toBe('Too many requests');
    const xml = renderProblem(limited(), undefined, {
      typeBase,
      render: () => ({ body: new TextEncoder().encode('<e/>'), contentType: 'application/xml' }),
    });
    expect(xml.headers['content-type']).toBe('application/xml');
    expect(xml.body.toString()).toBe('<e/>');
  });

  test('undefined, a throw or an unusable answer leave the problem document', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const render of [
      () => undefined,
      () => {
        throw new Error('renderer bug');
      },
      () => ({ body: 42 }) as never,
      () => ({ body: cyclic }),
      () => ({ body: {}, contentType: 'text/html\r\nx-evil: 1' }),
    ]) {
      const r = renderProblem(limited(), undefined, { typeBase, render });
      expect(r.headers['content-type']).toBe('application/problem+json');
      expect(json(r.body).code).toBe('GH_UNIT_LIMITED_R');
    }
  });

  test("the gateway's renderer gets the exchange, and reports what goes wrong (phase problems.render)", async () => {
    const reported: { error: unknown; phase: string }[] = [];
    const gateway = new Gateway(
      {},
      {
        onError: (error, { phase }) => reported.push({ error, phase }),
        problems: {
          render: (p, exchange) => {
            if (exchange?.path === '/boom') throw new Error('renderer bug');
            if (exchange?.path === '/bad') return { body: Symbol('x') } as never;
            return exchange?.path.startsWith('/api') ? { body: { errors: { body: [p.title] } } } : undefined;
          },
        },
      },
    );
    const server = createServer((req, res) => {
      const rendered = problem(ensureExchange(req, res, gateway), new NotFound());
      res.writeHead(rendered.status, rendered.headers).end(rendered.body);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const api = await fetch(`${base}/api/x`);
      expect([api.status, api.headers.get('content-type'), await api.json()]).toEqual([
        404,
        'application/json; charset=utf-8',
        { errors: { body: ['Not found'] } },
      ]);
      for (const path of ['/other', '/boom', '/bad']) {
        const res = await fetch(base + path);
        expect(res.headers.get('content-type'), path).toBe('application/problem+json');
        expect(((await res.json()) as { code: string }).code).toBe('GH_NOT_FOUND');
      }
      expect(reported.map((r) => [r.phase, (r.error as Error).message])).toEqual([
        ['problems.render', 'renderer bug'],
        [
          'problems.render',
          'problems.render: body must be a JSON value (object or array), a string or bytes',
        ],
      ]);
      expect(() => new Gateway({}, { problems: { render: 'json' } } as never)).toThrow(
        "gateway.problems.render: expected a function (problem, exchange) => { body, contentType? } | undefined, received the string 'json'",
      );
    } finally {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  });
});

describe('renderReply', () => {
  test('JSON, text, bytes and empty bodies get the right type and length', () => {
    expect(renderReply({ status: 200, body: { a: 1 } }).headers['content-type']).toBe(
      'application/json; charset=utf-8',
    );
    const text = renderReply({ status: 200, body: 'héllo' });
    expect(text.headers).toMatchObject({
      'content-type': 'text/plain; charset=utf-8',
      'content-length': '6',
    });
    expect(renderReply({ status: 200, body: new Uint8Array([1]) }).headers['content-type']).toBe(
      'application/octet-stream',
    );
    expect(renderReply({ status: 200 }).headers).toEqual({ 'content-length': '0' });
    // 204 and 304 never carry Content-Length (RFC 9110 §8.6), nor a body.
    const empty = renderReply({ status: 204, body: { ignored: true } });
    expect(empty.headers).toEqual({});
    expect(empty.body.length).toBe(0);
    expect(renderReply({ status: 304, headers: { etag: '"a"' } }).headers).toEqual({ etag: '"a"' });
  });

  test('a given content type wins and a given content-length is ignored', () => {
    const r = renderReply({
      status: 200,
      headers: { 'Content-Type': 'application/xml', 'Content-Length': '999' },
      body: '<a/>',
    });
    expect(r.headers).toEqual({ 'content-type': 'application/xml', 'content-length': '4' });
  });
});

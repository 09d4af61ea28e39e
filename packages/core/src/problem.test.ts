import { describe, expect, test } from 'vitest';
import { ConfigError } from './config/validate.js';
import { defineError, GatehouseError, InternalError, isGatehouseError, NotFound } from './errors.js';
import { renderProblem, renderReply, toGatehouseError } from './problem.js';

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

import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config/validate.js';
import {
  createHeaderHygiene,
  DEFAULT_STRIPPED_HEADERS,
  HOP_BY_HOP,
  isHeaderName,
  isSafeHeaderValue,
} from './headers.js';

describe('isHeaderName', () => {
  it.each(['content-type', 'X-Custom', "a!#$%&'*+-.^_`|~z", 'x1'])('accepts %j', (name) => {
    expect(isHeaderName(name)).toBe(true);
  });
  it.each(['', 'a b', 'a:b', ':authority', 'a\r\nb', 'a\0', 'é', 'a(b)', 'a/b', 'a"b'])(
    'rejects %j',
    (name) => {
      expect(isHeaderName(name)).toBe(false);
    },
  );
});

describe('isSafeHeaderValue', () => {
  it.each(['', 'text/html; charset=utf-8', 'a\tb', 'caf\u00e9', '~!@#'])('accepts %j', (value) => {
    expect(isSafeHeaderValue(value)).toBe(true);
  });
  it.each(['a\r\nSet-Cookie: x=1', 'a\nb', 'a\rb', 'a\0b', 'a\x7fb', 'a\x1bb', '\u2028', '\u0100'])(
    'rejects %j',
    (value) => {
      expect(isSafeHeaderValue(value)).toBe(false);
    },
  );
});

describe('HOP_BY_HOP and DEFAULT_STRIPPED_HEADERS', () => {
  it('lists the connection-scoped headers', () => {
    for (const name of [
      'connection',
      'keep-alive',
      'proxy-connection',
      'te',
      'transfer-encoding',
      'upgrade',
    ]) {
      expect(HOP_BY_HOP.has(name)).toBe(true);
    }
    expect(HOP_BY_HOP.has('content-length')).toBe(false);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(DEFAULT_STRIPPED_HEADERS)).toBe(true);
  });
});

describe('isStripped', () => {
  const hygiene = createHeaderHygiene();
  it.each([
    'x-gatehouse-user',
    'x-user-id',
    'X-User-Id',
    'X-GATEHOUSE-ROLES',
    'x-forwarded-client-cert',
    'x-client-cert',
    'x-client-cert-chain',
    'x-ssl-client-verify',
    'x-remote-user',
    'remote-user',
    'x-authenticated-userid',
    'x-principal-name',
    // Identity headers backends and auth proxies commonly trust.
    'x-user',
    'X-Roles',
    'x-email',
    'x-groups',
    'x-forwarded-user',
    'x-forwarded-email',
    'x-forwarded-groups',
    'x-forwarded-preferred-username',
    'x-forwarded-access-token',
    'x-auth-request-user',
    'X-Auth-Request-Email',
    'x-auth-request-access-token',
    'x-remote-group',
    'x-remote-extra-scopes',
    'remote-groups',
    'x-consumer-username',
    'x-userinfo',
    'x-amzn-oidc-identity',
    'x-goog-authenticated-user-email',
    'x-ms-client-principal-name',
    'cf-access-authenticated-user-email',
    'ssl-client-cert',
    // Underscore twins: CGI-style servers read them as the dashed name.
    'x_user_id',
    'X_USER_ID',
    'x_roles',
    'x_user',
    'remote_user',
    'x-user_id',
    'x_gatehouse_identity',
    'x_forwarded_client_cert',
    'x_auth_request_email',
    'cf_access_jwt_assertion',
  ])('strips %j', (name) => {
    expect(hygiene.isStripped(name)).toBe(true);
  });

  it.each([
    'x-users',
    'x-gatehouse',
    'x_gatehouse',
    'x-request-id',
    'x_request_id',
    'content-type',
    'cookie',
    'sec-fetch-mode',
    'cf-ray',
    'x-forwarded-host',
    'x-emails',
    'x-remote-user-agent',
    'remote-user2',
    'user-agent',
    'authorization',
    'x-forwarded-for',
    'x-ssl-client',
  ])('keeps %j', (name) => {
    expect(hygiene.isStripped(name)).toBe(false);
  });

  it('adds extra patterns, with or without the defaults', () => {
    const both = createHeaderHygiene({ strip: ['x-internal-*', 'X-Tenant'] });
    expect(both.isStripped('x-internal-secret')).toBe(true);
    expect(both.isStripped('x-tenant')).toBe(true);
    expect(both.isStripped('x-tenant-id')).toBe(false);
    expect(both.isStripped('x-user-id')).toBe(true);
    const only = createHeaderHygiene({ strip: ['x-tenant'], stripDefaults: false });
    expect(only.isStripped('x-user-id')).toBe(false);
    expect(only.isStripped('x-tenant')).toBe(true);
    expect(createHeaderHygiene({ stripDefaults: false }).isStripped('x-user-id')).toBe(false);
  });

  it('takes - and _ in a configured pattern as the same character', () => {
    const hygiene = createHeaderHygiene({ strip: ['x-tenant', 'x_internal-*'], stripDefaults: false });
    expect(hygiene.isStripped('x_tenant')).toBe(true);
    expect(hygiene.isStripped('X-TENANT')).toBe(true);
    expect(hygiene.isStripped('x-internal-a')).toBe(true);
    expect(hygiene.isStripped('x_internal_a')).toBe(true);
    expect(hygiene.isStripped('xxtenant')).toBe(false);
  });

  it('treats pattern characters literally', () => {
    const hygiene = createHeaderHygiene({ strip: ['x.a', 'x+b*'], stripDefaults: false });
    expect(hygiene.isStripped('x.a')).toBe(true);
    expect(hygiene.isStripped('xza')).toBe(false);
    expect(hygiene.isStripped('x+b-1')).toBe(true);
    expect(hygiene.isStripped('xxb')).toBe(false);
  });

  it.each([['x a'], [''], ['*'], ['x-a:*']])(
    'rejects the pattern %j with a ConfigError naming it',
    (pattern) => {
      let error: unknown;
      try {
        createHeaderHygiene({ strip: ['x-ok', pattern] });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        {
          path: 'headers.strip[1]',
          message: `invalid header name pattern '${pattern}' (a header name, optionally ending in '*')`,
        },
      ]);
    },
  );

  it('lists every problem at once: patterns, types and unknown options', () => {
    let error: unknown;
    try {
      createHeaderHygiene({ strip: ['x a', 7, 'ok-*'], stripDefault: false, stripDefaults: 'no' } as never);
    } catch (caught) {
      error = caught;
    }
    expect((error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      "headers.stripDefault: unknown option; did you mean 'stripDefaults'?",
      "headers.strip[0]: invalid header name pattern 'x a' (a header name, optionally ending in '*')",
      'headers.strip[1]: expected a header name, got number',
      'headers.stripDefaults: expected true or false',
    ]);
    expect(() => createHeaderHygiene({ strip: 'x-a' as never })).toThrow(ConfigError);
  });
});

describe('stripInbound', () => {
  it('deletes stripped headers in place and counts them', () => {
    const hygiene = createHeaderHygiene();
    const headers: IncomingHttpHeaders = {
      host: 'example.com',
      'x-user-id': '1',
      'x-gatehouse-roles': 'admin',
      'x-remote-user': 'root',
      accept: '*/*',
    };
    expect(hygiene.stripInbound(headers)).toBe(3);
    expect(headers).toEqual({ host: 'example.com', accept: '*/*' });
    expect(hygiene.stripInbound(headers)).toBe(0);
  });

  it('is cheap when nothing matches', () => {
    const hygiene = createHeaderHygiene({ strip: ['x-a-*', 'x-b-*', 'x-c'] });
    const headers: IncomingHttpHeaders = {};
    for (let i = 0; i < 20; i++) headers[`x-header-${i}`] = 'v';
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) hygiene.stripInbound(headers);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(Object.keys(headers)).toHaveLength(20);
  });
});

describe('forward', () => {
  const hygiene = createHeaderHygiene();

  it('drops hop-by-hop headers, te: trailers included', () => {
    const out = hygiene.forward(
      {
        connection: 'keep-alive',
        'keep-alive': 'timeout=5',
        'proxy-connection': 'keep-alive',
        te: 'trailers',
        'transfer-encoding': 'chunked',
        upgrade: 'websocket',
        trailer: 'x-checksum',
        'proxy-authorization': 'Basic eDp5',
        'content-type': 'application/json',
      },
      'request',
    );
    expect(out).toEqual({ 'content-type': 'application/json' });
  });

  it('drops headers named in Connection', () => {
    const out = hygiene.forward(
      { connection: 'close, X-Secret', 'x-secret': 's', 'x-other': 'o', accept: 'a' },
      'request',
    );
    expect(out).toEqual({ 'x-other': 'o', accept: 'a' });
    const many = hygiene.forward(
      { Connection: ['x-a', ' X-B ,, '], 'X-A': '1', 'x-b': '2', 'x-c': '3' },
      'response',
    );
    expect(many).toEqual({ 'x-c': '3' });
  });

  it('strips identity headers from requests only, whatever their case', () => {
    const headers = { 'X-User-Id': 'admin', 'x-gatehouse-user': 'u', 'REMOTE-USER': 'r', accept: '*/*' };
    expect(hygiene.forward(headers, 'request')).toEqual({ accept: '*/*' });
    expect(hygiene.forward(headers, 'response')).toEqual({
      'x-user-id': 'admin',
      'x-gatehouse-user': 'u',
      'remote-user': 'r',
      accept: '*/*',
    });
  });

  it('drops CR, LF and NUL in values and invalid names', () => {
    const out = hygiene.forward(
      {
        'x-a': 'ok',
        'x-crlf': 'a\r\nSet-Cookie: evil=1',
        'x-lf': 'a\nb',
        'x-nul': 'a\0b',
        'bad name': 'v',
        ':authority': 'example.com',
        'x-n': 42,
        'x-undefined': undefined,
        'set-cookie': ['a=1', 'b=2\r\nx: y', 'c=3'],
        'x-all-bad': ['\n', '\0'],
      },
      'response',
    );
    expect(out).toEqual({ 'x-a': 'ok', 'x-n': '42', 'set-cookie': ['a=1', 'c=3'] });
  });

  it('returns a new object; names Object.prototype holds are headers like any other', () => {
    const headers: IncomingHttpHeaders = { accept: '*/*', constructor: 'c', tostring: 't' };
    Object.defineProperty(headers, '__proto__', { value: ['x'], enumerable: true });
    const out = hygiene.forward(headers, 'request');
    expect(out).not.toBe(headers);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual(['x']);
    expect(Object.keys(out).sort()).toEqual(['__proto__', 'accept', 'constructor', 'tostring']);
    expect(out.constructor).toBe('c');
    expect(hygiene.forward({ Constructor: 'a', constructor: 'b' }, 'response')).toEqual({
      constructor: ['a', 'b'],
    });
  });

  it('leaves out the names in `omit` and those the Connection header names, wherever they stand', () => {
    const out = hygiene.forward(
      { 'x-early': '1', host: 'h', connection: 'x-early, X-Late', 'x-late': '2', 'x-kept': '3' },
      'request',
      new Set(['host']),
    );
    expect(out).toEqual({ 'x-kept': '3' });
  });

  it('merges names that differ only in case', () => {
    expect(hygiene.forward({ 'X-A': '1', 'x-a': ['2', '3'] }, 'response')).toEqual({
      'x-a': ['1', '2', '3'],
    });
  });
});

describe('strip-list first-character prefilter', () => {
  it('keeps matching case-insensitive for default and custom patterns, whatever their first character', () => {
    const hygiene = createHeaderHygiene({ strip: ['X-Tenant-*', 'tenant', '9-legacy', '~odd'] });
    for (const name of [
      'x-tenant-id',
      'X-TENANT-ID',
      'Tenant',
      'TENANT',
      '9-legacy',
      '~odd',
      'X-User-Id',
      'Remote-User',
    ]) {
      expect(hygiene.isStripped(name), name).toBe(true);
    }
    for (const name of ['host', 'accept', 'x-request-id', 'tenants', 'é-tenant', '']) {
      expect(hygiene.isStripped(name), name).toBe(false);
    }
  });
});

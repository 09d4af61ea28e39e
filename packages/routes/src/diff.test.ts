import { ConfigError } from '@gatehousejs/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  canonicalMediaType,
  createDiffer,
  DEFAULT_DIFF_HEADERS,
  type DiffOptions,
  type ResponseSample,
} from './diff.js';

const request = { method: 'GET', path: '/orders/1' };

function json(value: unknown, extra: Partial<ResponseSample> = {}): ResponseSample {
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: Buffer.from(JSON.stringify(value)),
    ...extra,
  };
}

function raw(body: string, contentType = 'application/json'): ResponseSample {
  return { status: 200, headers: { 'content-type': contentType }, body: Buffer.from(body) };
}

function compare(local: ResponseSample, remote: ResponseSample, options?: DiffOptions) {
  return createDiffer(options).compare(local, remote, request);
}

describe('JSON bodies', () => {
  test('key order does not matter', () => {
    const result = compare(
      json({ id: 1, name: 'a', tags: ['x'], nested: { p: 1, q: [1, { r: 2, s: 3 }] } }),
      json({ nested: { q: [1, { s: 3, r: 2 }], p: 1 }, tags: ['x'], name: 'a', id: 1 }),
    );
    expect(result).toEqual({ equal: true, differences: [], omitted: 0, ignoredNoise: 0 });
  });

  test('a nested change is reported with its concrete path and normalized field', () => {
    const local = {
      order: {
        items: [
          { id: 1, qty: 2 },
          { id: 2, qty: 3 },
        ],
      },
    };
    const remote = {
      order: {
        items: [
          { id: 1, qty: 2 },
          { id: 2, qty: 4 },
        ],
      },
    };
    const result = compare(json(local), json(remote));
    expect(result.equal).toBe(false);
    expect(result.differences).toEqual([
      { path: '/order/items/1/qty', field: '/order/items/*/qty', kind: 'value', local: 3, remote: 4 },
    ]);
  });

  test('numbers compare by value, not by spelling', () => {
    const result = compare(raw('{"n": 1, "m": [10, 2.50]}'), raw('{"n":1.0,"m":[1e1,2.5]}'));
    expect(result.equal).toBe(true);
  });

  test('array length differences give one missing or extra per index', () => {
    const shorter = compare(json({ list: [1, 2, 3] }), json({ list: [1] }));
    expect(shorter.differences).toEqual([
      { path: '/list/1', field: '/list/*', kind: 'missing', local: 2 },
      { path: '/list/2', field: '/list/*', kind: 'missing', local: 3 },
    ]);
    const longer = compare(json({ list: [1] }), json({ list: [1, { a: 1 }] }));
    expect(longer.differences).toEqual([
      { path: '/list/1', field: '/list/*', kind: 'extra', remote: { a: 1 } },
    ]);
  });

  test('object keys present on one side only are missing or extra', () => {
    const result = compare(json({ a: 1, gone: true }), json({ a: 1, added: null }));
    expect(result.differences).toEqual([
      { path: '/gone', field: '/gone', kind: 'missing', local: true },
      { path: '/added', field: '/added', kind: 'extra', remote: null },
    ]);
  });

  test('type mismatches are reported as type, not value', () => {
    const result = compare(json({ n: 1, o: null, a: [], s: 'x' }), json({ n: '1', o: {}, a: {}, s: 'y' }));
    expect(result.differences.map((d) => [d.path, d.kind])).toEqual([
      ['/n', 'type'],
      ['/o', 'type'],
      ['/a', 'type'],
      ['/s', 'value'],
    ]);
    expect(result.differences[0]).toMatchObject({ local: 1, remote: '1' });
  });

  test('+json media types are compared structurally', () => {
    const local = raw('{"type":"about:blank","status":404}', 'application/problem+json');
    const remote = raw('{"status":404,"type":"about:blank"}', 'application/problem+json');
    expect(compare(local, remote).equal).toBe(true);
  });

  test('keys with / and ~ are escaped as in RFC 6901, and ignore patterns use the same escapes', () => {
    const local = json({ 'a/b': 1, 'm~n': { x: 1 } });
    const remote = json({ 'a/b': 2, 'm~n': { x: 2 } });
    expect(compare(local, remote).differences.map((d) => d.path)).toEqual(['/a~1b', '/m~0n/x']);
    expect(compare(local, remote, { ignore: ['/a~1b', '/m~0n'] }).equal).toBe(true);
  });

  test('subtrees deeper than 64 levels are compared whole, still ignoring key order', () => {
    const nest = (leaf: string) => `${'{"d":'.repeat(100)}${leaf}${'}'.repeat(100)}`;
    const equal = compare(raw(nest('{"a":1,"b":2}')), raw(nest('{"b":2,"a":1}')));
    expect(equal.equal).toBe(true);
    const different = compare(raw(nest('{"a":1}')), raw(nest('{"a":2}')));
    expect(different.differences).toHaveLength(1);
    expect(different.differences[0]).toMatchObject({ path: '/d'.repeat(64), kind: 'value' });
  });

  test('absurd nesting neither throws nor overflows the stack', () => {
    const deep = (leaf: string) => raw(`${'['.repeat(200_000)}${leaf}${']'.repeat(200_000)}`);
    const result = compare(deep('1'), deep('2'));
    expect(result.equal).toBe(false);
    expect(result.differences).toHaveLength(1);
  });
});

describe('other bodies', () => {
  test('non-JSON bodies are compared as bytes: one body difference at the root', () => {
    const result = compare(raw('hello world', 'text/plain'), raw('hello there', 'text/plain'));
    expect(result.differences).toEqual([
      { path: '', field: '', kind: 'body', local: 'hello world', remote: 'hello there' },
    ]);
    expect(compare(raw('same', 'text/plain'), raw('same', 'text/plain')).equal).toBe(true);
  });

  test('JSON that reorders keys but is not labelled JSON on both sides is a byte difference', () => {
    const result = compare(raw('{"a":1,"b":2}'), raw('{"b":2,"a":1}', 'text/plain'));
    expect(result.differences.map((d) => d.kind)).toEqual(['header', 'body']);
  });

  test('unparseable JSON falls back to bytes', () => {
    expect(compare(raw('{"a":'), raw('{"a":')).equal).toBe(true);
    expect(compare(raw('{"a":'), raw('{"a":1}')).differences).toEqual([
      { path: '', field: '', kind: 'body', local: '{"a":', remote: { a: 1 } },
    ]);
  });

  test('no body and an empty body are the same; no body and some body are not', () => {
    const none: ResponseSample = { status: 204, headers: {}, body: undefined };
    expect(compare(none, { ...none, body: Buffer.alloc(0) }).equal).toBe(true);
    expect(compare(none, { ...none, body: Buffer.from('x') }).differences).toEqual([
      { path: '', field: '', kind: 'body', local: '', remote: 'x' },
    ]);
  });

  test('long strings are shortened to 200 characters in stored differences', () => {
    const result = compare(json({ s: 'a'.repeat(5000) }), json({ s: 'b'.repeat(5000) }));
    const { local, remote } = result.differences[0]!;
    expect(local).toHaveLength(200);
    expect(local).toBe(`${'a'.repeat(199)}…`);
    expect(remote).toBe(`${'b'.repeat(199)}…`);
  });

  test('garbage never throws', () => {
    const differ = createDiffer();
    const garbage = [
      { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from([0xff, 0x00, 0xfe]) },
      { status: Number.NaN, headers: undefined, body: 'not a buffer' },
      null,
      {
        status: 200,
        headers: { 'content-type': ['application/json', 'text/html'] },
        body: new Uint8Array([1]),
      },
    ] as unknown as ResponseSample[];
    for (const a of garbage) {
      for (const b of garbage) {
        expect(() => differ.compare(a, b, request)).not.toThrow();
        expect(() => differ.learn(a, b)).not.toThrow();
      }
    }
    expect(() => differ.compare(json(1), json(2), undefined as never)).not.toThrow();
  });
});

describe('status and headers', () => {
  test('status is compared', () => {
    const result = compare(json({}), json({}, { status: 500 }));
    expect(result.differences).toEqual([
      { path: 'status', field: 'status', kind: 'status', local: 200, remote: 500 },
    ]);
  });

  test('chosen headers are compared by value, names case-insensitively, multi-values joined', () => {
    const options = { headers: ['Content-Type', 'vary', 'x-version', 'cache-control', 'x-count'] };
    const local: ResponseSample = {
      status: 200,
      headers: { 'Content-Type': 'text/plain', vary: ['accept', 'origin'], 'x-version': '1', 'x-count': 2 },
      body: undefined,
    };
    const same: ResponseSample = {
      status: 200,
      headers: { 'content-type': 'text/plain', vary: 'accept, origin', 'X-Version': '1', 'x-count': '2' },
      body: undefined,
    };
    expect(compare(local, same, options).equal).toBe(true);
    const other: ResponseSample = {
      status: 200,
      headers: {
        'content-type': 'text/plain',
        vary: ['accept', 'cookie'],
        'cache-control': 'no-store',
        'x-count': 2,
      },
      body: undefined,
    };
    expect(compare(local, other, options).differences).toEqual([
      {
        path: 'header:vary',
        field: 'header:vary',
        kind: 'header',
        local: 'accept, origin',
        remote: 'accept, cookie',
      },
      { path: 'header:x-version', field: 'header:x-version', kind: 'header', local: '1' },
      { path: 'header:cache-control', field: 'header:cache-control', kind: 'header', remote: 'no-store' },
    ]);
  });

  test('by default only headers a client acts on are compared; framework noise is not', () => {
    const express = {
      'content-type': 'application/json; charset=utf-8',
      etag: 'W/"11-abc"',
      'x-powered-by': 'Express',
      'content-length': '17',
      date: 'Fri, 04 Dec 2026 10:00:00 GMT',
      connection: 'keep-alive',
      'keep-alive': 'timeout=5',
    };
    const plain = {
      'content-type': 'application/json',
      date: 'Fri, 04 Dec 2026 10:00:01 GMT',
      vary: 'origin',
    };
    expect(compare(json({}, { headers: express }), json({}, { headers: plain }))).toMatchObject({
      equal: true,
      differences: [],
    });
    expect(DEFAULT_DIFF_HEADERS).toEqual([
      'content-type',
      'location',
      'cache-control',
      'www-authenticate',
      'allow',
      'content-language',
      'content-disposition',
    ]);
    // Each default header, changed alone, is a difference.
    const base = {
      'content-type': 'application/json',
      location: '/orders/1',
      'cache-control': 'private, max-age=60',
      'www-authenticate': 'Bearer realm="api"',
      allow: 'GET, HEAD',
      'content-language': 'en',
      'content-disposition': 'inline',
    };
    const changed: Record<string, string> = {
      'content-type': 'text/plain',
      location: '/orders/2',
      'cache-control': 'no-store',
      'www-authenticate': 'Basic realm="api"',
      allow: 'GET, HEAD, DELETE',
      'content-language': 'de',
      'content-disposition': 'attachment',
    };
    for (const name of DEFAULT_DIFF_HEADERS) {
      const result = compare(
        json({}, { headers: base }),
        json({}, { headers: { ...base, [name]: changed[name]! } }),
      );
      expect(result.differences, name).toEqual([
        {
          path: `header:${name}`,
          field: `header:${name}`,
          kind: 'header',
          local: base[name as keyof typeof base],
          remote: changed[name],
        },
      ]);
    }
  });

  test('media types are compared by meaning: case, parameter order and quoting, JSON charset', () => {
    const same: Array<[string, string]> = [
      ['application/json; charset=utf-8', 'application/json'],
      ['application/json', 'Application/JSON; Charset="UTF-8"'],
      ['application/problem+json; charset=utf-8', 'application/problem+json'],
      ['text/html; charset=utf-8', 'text/html;charset=UTF-8'],
      ['multipart/form-data; boundary=x; charset=utf-8', 'multipart/form-data;charset=utf-8;  boundary="x"'],
    ];
    for (const [a, b] of same) expect(compare(raw('{}', a), raw('{}', b)).equal, `${a} vs ${b}`).toBe(true);
    const different: Array<[string, string]> = [
      // Without a charset, text is not UTF-8 by definition: a client may decode it otherwise.
      ['text/html; charset=utf-8', 'text/html'],
      ['application/json; charset=iso-8859-1', 'application/json'],
      ['application/json', 'text/json'],
      ['application/json', 'application/problem+json'],
      ['multipart/form-data; boundary=x', 'multipart/form-data; boundary=y'],
      ['application/json', 'not a media type'],
    ];
    for (const [a, b] of different) {
      const result = compare(raw('{}', a), raw('{}', b));
      expect(result.differences, `${a} vs ${b}`).toEqual([
        { path: 'header:content-type', field: 'header:content-type', kind: 'header', local: a, remote: b },
      ]);
    }
  });

  test('list headers are compared as sets: order, case and spacing do not matter', () => {
    const a = json(
      {},
      {
        headers: {
          'content-type': 'application/json',
          'cache-control': 'no-store, Private',
          allow: 'GET,HEAD',
        },
      },
    );
    const b = json(
      {},
      {
        headers: {
          'content-type': 'application/json',
          'cache-control': 'private,  no-store',
          allow: 'HEAD, GET',
        },
      },
    );
    expect(compare(a, b).equal).toBe(true);
    const c = json(
      {},
      {
        headers: {
          'content-type': 'application/json',
          'cache-control': 'private, max-age = 60',
          allow: 'GET,HEAD',
        },
      },
    );
    const d = json(
      {},
      {
        headers: {
          'content-type': 'application/json',
          'cache-control': 'max-age=60,private',
          allow: 'GET, HEAD',
        },
      },
    );
    expect(compare(c, d).equal).toBe(true);
    expect(compare(a, c).differences.map((x) => x.path)).toEqual(['header:cache-control']);
  });

  test('property: a media type equals itself however its case, parameter order and spacing are written', () => {
    const token = fc.stringMatching(/^[a-z][a-z0-9.+-]{0,8}$/);
    const param = fc.tuple(token, fc.stringMatching(/^[A-Za-z0-9-]{1,8}$/));
    fc.assert(
      fc.property(
        token,
        token,
        fc.uniqueArray(param, { selector: ([name]) => name, maxLength: 4 }),
        fc.nat(),
        (type, subtype, params, seed) => {
          const write = (list: Array<[string, string]>, loud: boolean, spaced: boolean) =>
            [
              loud ? `${type}/${subtype}`.toUpperCase() : `${type}/${subtype}`,
              ...list.map(([n, v]) => `${loud ? n.toUpperCase() : n}=${spaced ? `"${v}"` : v}`),
            ].join(spaced ? ' ;  ' : ';');
          const shuffled = [...params].sort(
            (x, y) => ((x[0].charCodeAt(0) * (seed + 1)) % 7) - ((y[0].charCodeAt(0) * (seed + 1)) % 7),
          );
          // charset values are case-insensitive; other parameter values are kept as written.
          expect(canonicalMediaType(write(params, false, false))).toBe(
            canonicalMediaType(write(shuffled, true, true)),
          );
        },
      ),
      { seed: 16_04, numRuns: 300 },
    );
  });
});

describe('ignore', () => {
  test("'*' matches one key or index, and a pattern covers descendants", () => {
    const local = {
      items: [
        { id: 1, updatedAt: 't1', price: 5 },
        { id: 2, updatedAt: 't2', price: 6 },
      ],
      users: { ann: { lastSeen: 1, role: 'a' } },
      meta: { requestId: 'r1', trace: { span: 's1' } },
    };
    const remote = {
      items: [
        { id: 1, updatedAt: 'u1', price: 5 },
        { id: 2, updatedAt: 'u2', price: 7 },
      ],
      users: { ann: { lastSeen: 2, role: 'a' } },
      meta: { requestId: 'r2', trace: { span: 's2' }, extra: true },
    };
    const result = compare(json(local), json(remote), {
      ignore: ['/items/*/updatedAt', '/users/*/lastSeen', '/meta'],
    });
    expect(result.differences).toEqual([
      { path: '/items/1/price', field: '/items/*/price', kind: 'value', local: 6, remote: 7 },
    ]);
  });

  test("'*' is exactly one segment, not any depth", () => {
    const result = compare(
      json({ a: { b: { c: 1 } }, x: { c: 1 } }),
      json({ a: { b: { c: 2 } }, x: { c: 2 } }),
      {
        ignore: ['/*/c'],
      },
    );
    expect(result.differences.map((d) => d.path)).toEqual(['/a/b/c']);
  });

  test('a pattern naming one index ignores only that index', () => {
    const result = compare(json({ l: [1, 2, 3] }), json({ l: [9, 9] }), { ignore: ['/l/0', '/l/2'] });
    expect(result.differences.map((d) => d.path)).toEqual(['/l/1']);
  });

  test('a pattern on a whole array ignores its length too', () => {
    expect(compare(json({ l: [1, 2, 3] }), json({ l: [] }), { ignore: ['/l/*'] }).equal).toBe(true);
  });

  test('header paths ignore headers', () => {
    const local = json({}, { headers: { 'content-type': 'application/json', etag: '"1"' } });
    const remote = json({}, { headers: { 'content-type': 'application/json', etag: '"2"' } });
    expect(compare(local, remote, { headers: ['content-type', 'etag'] }).equal).toBe(false);
    expect(compare(local, remote, { headers: ['content-type', 'etag'], ignore: ['header:ETag'] }).equal).toBe(
      true,
    );
  });
});

describe('redaction', () => {
  test('auth headers are always redacted, configured body and header paths too, in results and the store', () => {
    const differ = createDiffer({
      headers: ['authorization', 'set-cookie', 'x-api-key', 'content-type'],
      redact: ['/user/token', 'header:x-api-key', '/secret'],
    });
    const local = json(
      { user: { token: 'tok-local', name: 'ann' }, secret: { pin: 'pin-local' }, card: { last4: '1111' } },
      {
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer auth-local',
          'set-cookie': ['sid=cookie-local'],
          'x-api-key': 'key-local',
        },
      },
    );
    const remote = json(
      { user: { token: 'tok-remote', name: 'bob' }, secret: { pin: 'pin-remote' } },
      {
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer auth-remote',
          'set-cookie': 'sid=cookie-remote',
          'x-api-key': 'key-remote',
        },
      },
    );
    const result = differ.compare(local, remote, request);
    expect(result.differences).toEqual([
      {
        path: 'header:authorization',
        field: 'header:authorization',
        kind: 'header',
        local: '[redacted]',
        remote: '[redacted]',
      },
      {
        path: 'header:set-cookie',
        field: 'header:set-cookie',
        kind: 'header',
        local: '[redacted]',
        remote: '[redacted]',
      },
      {
        path: 'header:x-api-key',
        field: 'header:x-api-key',
        kind: 'header',
        local: '[redacted]',
        remote: '[redacted]',
      },
      { path: '/user/token', field: '/user/token', kind: 'value', local: '[redacted]', remote: '[redacted]' },
      { path: '/user/name', field: '/user/name', kind: 'value', local: 'ann', remote: 'bob' },
      { path: '/secret/pin', field: '/secret/pin', kind: 'value', local: '[redacted]', remote: '[redacted]' },
      { path: '/card', field: '/card', kind: 'missing', local: { last4: '1111' } },
    ]);
    const stored = JSON.stringify(differ.latest());
    for (const secret of ['tok-', 'pin-', 'auth-', 'cookie-', 'key-']) expect(stored).not.toContain(secret);
    expect(stored).toContain('ann');
  });

  test('redacted fields inside a missing subtree are redacted in the stored value', () => {
    const differ = createDiffer({ redact: ['/users/*/token'] });
    differ.compare(json({ users: [{ name: 'ann', token: 'tok-1' }] }), json({ users: [] }), request);
    expect(differ.latest()[0]!.differences).toEqual([
      { path: '/users/0', field: '/users/*', kind: 'missing', local: { name: 'ann', token: '[redacted]' } },
    ]);
  });

  test('redaction applies when a body is stored whole', () => {
    const result = compare(raw('{"token":"tok-1","a":1}'), raw('not json', 'text/plain'), {
      redact: ['/token'],
    });
    const body = result.differences.find((d) => d.kind === 'body')!;
    expect(body.local).toEqual({ token: '[redacted]', a: 1 });
    expect(body.remote).toBe('not json');
  });

  test('a redacted field is still compared', () => {
    expect(compare(json({ token: 'a' }), json({ token: 'b' }), { redact: ['/token'] }).equal).toBe(false);
  });
});

describe('noise', () => {
  const sample = (at: string, id: string, total: number) =>
    json({ generatedAt: at, order: { id, total, lines: [{ sku: 'a', lineId: `${id}-1` }] } });

  test('fields that differ between local samples are ignored afterwards; real differences still count', () => {
    const differ = createDiffer();
    differ.learn(sample('2024-01-01T00:00:00Z', 'o-1', 10), sample('2024-01-01T00:00:01Z', 'o-2', 10));
    expect(differ.stats().noise).toEqual({ '/generatedAt': 1, '/order/id': 1, '/order/lines/*/lineId': 1 });
    expect(differ.stats().noiseSamples).toBe(1);

    const result = differ.compare(
      sample('2024-01-01T00:00:05Z', 'o-3', 10),
      sample('2024-01-01T00:00:06Z', 'o-4', 11),
      request,
    );
    expect(result.differences).toEqual([
      { path: '/order/total', field: '/order/total', kind: 'value', local: 10, remote: 11 },
    ]);
    expect(result.ignoredNoise).toBe(3);

    const noiseOnly = differ.compare(sample('t1', 'x', 10), sample('t2', 'y', 10), request);
    expect(noiseOnly).toMatchObject({ equal: true, ignoredNoise: 3 });
  });

  test('without learning, the same fields are differences', () => {
    const result = createDiffer().compare(sample('t1', 'x', 10), sample('t2', 'y', 10), request);
    expect(result.differences.map((d) => d.field)).toEqual([
      '/generatedAt',
      '/order/id',
      '/order/lines/*/lineId',
    ]);
  });

  test('a noisy field covers its descendants, and noise on array items covers every index', () => {
    const differ = createDiffer();
    differ.learn(json({ meta: { a: 1 }, items: [{ id: 1 }] }), json({ meta: null, items: [{ id: 2 }] }));
    const result = differ.compare(
      json({ meta: { a: 1, b: { c: 1 } }, items: [{ id: 1 }, { id: 2 }, { id: 3, v: 1 }] }),
      json({ meta: { a: 2, b: { c: 2 } }, items: [{ id: 4 }, { id: 5 }, { id: 6, v: 2 }] }),
      request,
    );
    expect(result.differences.map((d) => d.path)).toEqual(['/items/2/v']);
    expect(result.ignoredNoise).toBe(5);
  });

  test('noise learned in headers and status is ignored too', () => {
    const differ = createDiffer({ headers: ['date'] });
    const at = (date: string, status = 200) =>
      json({}, { status, headers: { 'content-type': 'application/json', date } });
    differ.learn(at('a'), at('b'));
    expect(differ.compare(at('c'), at('d'), request).equal).toBe(true);
    expect(differ.compare(at('c'), at('c', 503), request).equal).toBe(false);
    differ.learn(at('a'), at('a', 503));
    expect(differ.compare(at('c'), at('d', 503), request)).toMatchObject({ equal: true, ignoredNoise: 2 });
  });

  test('with noiseThreshold 2 a field is noise only after differing in two local pairs', () => {
    const differ = createDiffer({ noiseThreshold: 2 });
    const pair = () =>
      differ.compare(json({ ts: 1, items: [{ id: 1 }] }), json({ ts: 2, items: [{ id: 2 }] }), request);
    // Two indices differing in one pair count once for '/items/*/id'.
    differ.learn(
      json({ ts: 1, items: [{ id: 1 }, { id: 2 }] }),
      json({ ts: 2, items: [{ id: 3 }, { id: 4 }] }),
    );
    expect(differ.stats().noise).toEqual({});
    expect(pair().differences.map((d) => d.field)).toEqual(['/ts', '/items/*/id']);
    differ.learn(json({ ts: 3 }), json({ ts: 4 }));
    expect(differ.stats().noise).toEqual({ '/ts': 2 });
    expect(pair().differences.map((d) => d.field)).toEqual(['/items/*/id']);
    differ.learn(json({ items: [{ id: 1 }] }), json({ items: [{ id: 9 }] }));
    expect(pair().equal).toBe(true);
    expect(differ.stats().noiseSamples).toBe(3);
  });

  test('resetStats clears stats and store but keeps learned noise', () => {
    const differ = createDiffer();
    differ.learn(json({ ts: 1 }), json({ ts: 2 }));
    differ.compare(json({ ts: 1, a: 1 }), json({ ts: 2, a: 2 }), request);
    differ.resetStats();
    expect(differ.stats()).toEqual({
      compared: 0,
      equal: 0,
      different: 0,
      skipped: 0,
      rate: 0,
      fields: {},
      noise: { '/ts': 1 },
      noiseSamples: 1,
      noiseDifferent: 1,
    });
    expect(differ.latest()).toEqual([]);
    expect(differ.compare(json({ ts: 1 }), json({ ts: 2 }), request).equal).toBe(true);
  });

  test('the noise baseline counts the local pairs that differ on what is not noise yet', () => {
    const differ = createDiffer({ noiseThreshold: 2 });
    // /ts differs in the first two pairs: it is not noise until the second has been learned.
    differ.learn(json({ ts: 1, a: 1 }), json({ ts: 2, a: 1 }));
    differ.learn(json({ ts: 3, a: 1 }), json({ ts: 4, a: 1 }));
    // Now noise: a pair differing only on /ts is not counted; equal pairs are not either.
    differ.learn(json({ ts: 5, a: 1 }), json({ ts: 6, a: 1 }));
    differ.learn(json({ ts: 7, a: 1 }), json({ ts: 7, a: 1 }));
    // A field that is not noise counts again.
    differ.learn(json({ ts: 8, a: 1 }), json({ ts: 9, a: 2 }));
    expect(differ.stats()).toMatchObject({ noiseSamples: 5, noiseDifferent: 3, noise: { '/ts': 4 } });
  });
});

describe('truncated samples', () => {
  test('are skipped, counted apart from compared, and not stored', () => {
    const differ = createDiffer();
    const result = differ.compare(json({ a: 1 }, { truncated: true }), json({ a: 2 }), request);
    expect(result).toMatchObject({ equal: false, differences: [], skipped: 'body too large' });
    expect(differ.compare(json({ a: 1 }), json({ a: 1 }, { truncated: true }), request).skipped).toBe(
      'body too large',
    );
    expect(differ.stats()).toMatchObject({ compared: 0, skipped: 2, rate: 0 });
    expect(differ.latest()).toEqual([]);
  });

  test('are still different when the statuses differ', () => {
    const differ = createDiffer();
    const result = differ.compare(
      json({ a: 1 }, { truncated: true }),
      json({ a: 2 }, { status: 502 }),
      request,
    );
    expect(result).toEqual({
      equal: false,
      differences: [{ path: 'status', field: 'status', kind: 'status', local: 200, remote: 502 }],
      omitted: 0,
      ignoredNoise: 0,
    });
    expect(differ.stats()).toMatchObject({ compared: 1, different: 1, skipped: 0 });
  });
});

describe('the query in stored differences', () => {
  const query = 'tag=dragons&email=alice%40example.com&page=2&flag&tag=x';
  const stored = (options: DiffOptions, q: string | undefined) => {
    const differ = createDiffer(options);
    differ.compare(json({ a: 1 }), json({ a: 2 }), { ...request, query: q });
    return differ.latest()[0]!;
  };

  test('names every parameter, with its value redacted unless revealQuery names it', () => {
    expect(stored({}, query).query).toBe(
      'tag=[redacted]&email=[redacted]&page=[redacted]&flag&tag=[redacted]',
    );
    expect(stored({ revealQuery: ['tag', 'page'] }, query).query).toBe(
      'tag=dragons&email=[redacted]&page=2&flag&tag=x',
    );
    expect(stored({ revealQuery: ['*'] }, query).query).toBe(query);
    expect(JSON.stringify(stored({ revealQuery: ['tag'] }, query))).not.toContain('alice');
  });

  test('names are matched decoded; a request without a query stores none', () => {
    expect(stored({ revealQuery: ['a b'] }, 'a+b=1&a%20b=2&c=3').query).toBe('a+b=1&a%20b=2&c=[redacted]');
    expect(stored({}, undefined)).not.toHaveProperty('query');
    expect(stored({}, '')).not.toHaveProperty('query');
    // A malformed escape is kept as received, and its value still redacted.
    expect(stored({}, '%E0%A4%A=1').query).toBe('%E0%A4%A=[redacted]');
  });
});

describe('store and stats', () => {
  test('keeps the newest `keep` records, newest first', () => {
    const differ = createDiffer({ keep: 3 });
    for (let i = 1; i <= 5; i++) {
      differ.compare(json({ v: 0 }), json({ v: i }), {
        method: 'POST',
        path: `/r${i}`,
        requestId: `id-${i}`,
      });
      differ.compare(json({ v: 0 }), json({ v: 0 }), { method: 'GET', path: `/same${i}` });
    }
    const latest = differ.latest();
    expect(latest.map((r) => r.path)).toEqual(['/r5', '/r4', '/r3']);
    expect(latest[0]).toMatchObject({
      method: 'POST',
      requestId: 'id-5',
      omitted: 0,
      differences: [{ path: '/v', field: '/v', kind: 'value', local: 0, remote: 5 }],
    });
    expect(new Date(latest[0]!.at).toISOString()).toBe(latest[0]!.at);
  });

  test('keep 0 stores nothing', () => {
    const differ = createDiffer({ keep: 0 });
    differ.compare(json(1), json(2), request);
    expect(differ.latest()).toEqual([]);
    expect(differ.stats().different).toBe(1);
  });

  test('rate is different / compared and fields count comparisons, not occurrences', () => {
    const differ = createDiffer();
    expect(differ.stats().rate).toBe(0);
    differ.compare(json({ a: 1, l: [1, 2] }), json({ a: 1, l: [1, 2] }), request);
    differ.compare(json({ a: 1, l: [1, 2] }), json({ a: 2, l: [3, 4] }), request);
    differ.compare(json({ a: 1, l: [1, 2] }), json({ a: 2, l: [1, 2] }), request);
    differ.compare(json({ a: 1 }), json({ a: 1 }, { status: 404 }), request);
    expect(differ.stats()).toEqual({
      compared: 4,
      equal: 1,
      different: 3,
      skipped: 0,
      rate: 0.75,
      fields: { '/a': 2, '/l/*': 1, status: 1 },
      noise: {},
      noiseSamples: 0,
      noiseDifferent: 0,
    });
  });

  test('differences beyond maxDifferencesPerResponse are counted but not recorded', () => {
    const differ = createDiffer({ maxDifferencesPerResponse: 3 });
    const result = differ.compare(
      json({ l: [1, 2, 3, 4, 5], z: 1 }),
      json({ l: [0, 0, 0, 0, 0], z: 2 }),
      request,
    );
    expect(result.differences.map((d) => d.path)).toEqual(['/l/0', '/l/1', '/l/2']);
    expect(result.omitted).toBe(3);
    expect(differ.latest()[0]!.omitted).toBe(3);
    expect(differ.stats().fields).toEqual({ '/l/*': 1, '/z': 1 });
  });

  test('per-field counters are capped at 1,000 distinct fields, the rest under (other)', () => {
    const differ = createDiffer();
    for (let round = 0; round < 3; round++) {
      const local: Record<string, number> = {};
      const remote: Record<string, number> = {};
      for (let i = 0; i < 500; i++) {
        local[`k${round}-${i}`] = 1;
        remote[`k${round}-${i}`] = 2;
      }
      differ.compare(json(local), json(remote), request);
    }
    const fields = differ.stats().fields;
    expect(Object.keys(fields)).toHaveLength(1_001);
    expect(fields['(other)']).toBe(500);
  });
});

describe('prototype safety', () => {
  test("'__proto__' and 'constructor' keys are compared like any key and pollute nothing", () => {
    const differ = createDiffer();
    const local = raw('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"p":1}},"a":1}');
    const remote = raw('{"__proto__":{"polluted":"no"},"constructor":{"prototype":{"p":2}}}');
    const result = differ.compare(local, remote, request);
    expect(result.differences.map((d) => [d.path, d.kind])).toEqual([
      ['/__proto__/polluted', 'value'],
      ['/constructor/prototype/p', 'value'],
      ['/a', 'missing'],
    ]);
    differ.compare(local, raw('{}'), request);
    const missing = differ.latest()[0]!.differences[0]!;
    expect(missing.path).toBe('/__proto__');
    expect(Object.hasOwn(missing.local as object, 'polluted')).toBe(true);
    expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['p']).toBeUndefined();
  });

  test("a '__proto__' key on one side only is missing, not silently equal", () => {
    const result = compare(raw('{"__proto__":1}'), raw('{}'));
    expect(result.differences).toEqual([
      { path: '/__proto__', field: '/__proto__', kind: 'missing', local: 1 },
    ]);
  });

  test("learning a '__proto__' field as noise works and leaks nothing", () => {
    const differ = createDiffer();
    differ.learn(raw('{"__proto__":{"x":1}}'), raw('{"__proto__":{"x":2}}'));
    expect(differ.stats().noise).toEqual({ '/__proto__/x': 1 });
    expect(differ.compare(raw('{"__proto__":{"x":3}}'), raw('{"__proto__":{"x":4}}'), request).equal).toBe(
      true,
    );
    expect(Object.hasOwn(Object.prototype, 'x')).toBe(false);
  });
});

describe('pathological input', () => {
  test('a 1 MB JSON array compares quickly and stops recording at the cap', () => {
    const local = Array.from({ length: 150_000 }, (_, i) => i + 0.5);
    const remote = local.map((n) => n + 1);
    const a = json(local);
    const b = json(remote);
    expect(a.body!.length).toBeGreaterThan(1_000_000);
    const differ = createDiffer();
    const started = performance.now();
    const result = differ.compare(a, b, request);
    const oneLate = differ.compare(a, json([...local.slice(0, -1), -1]), request);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result.differences).toHaveLength(20);
    expect(result.omitted).toBe(150_000 - 20);
    expect(oneLate.differences).toEqual([
      { path: '/149999', field: '/*', kind: 'value', local: 149_999.5, remote: -1 },
    ]);
  });

  test('a huge missing subtree is stored abridged', () => {
    const big = {
      rows: Array.from({ length: 10_000 }, (_, i) => ({ i, deep: { a: { b: { c: { d: i } } } } })),
    };
    const result = compare(json(big), json({}));
    const stored = JSON.stringify(result.differences);
    expect(stored.length).toBeLessThan(5_000);
    expect(stored).toContain('more');
  });
});

describe('diff options', () => {
  /** The problems of the one ConfigError createDiffer throws, as `path: message` lines. */
  function problems(options: unknown): string[] {
    let thrown: unknown;
    try {
      createDiffer(options as DiffOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    return (thrown as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }

  test('accepts valid options and nothing', () => {
    expect(() => createDiffer()).not.toThrow();
    expect(() =>
      createDiffer({
        headers: ['content-type', 'ETag'],
        ignore: ['/a/*/b', '/x~1y', 'header:date', 'header:*'],
        redact: ['/token'],
        keep: 0,
        noiseThreshold: 2,
        maxDifferencesPerResponse: 5,
      }),
    ).not.toThrow();
  });

  test('reports each bad value with its path, all in one ConfigError', () => {
    expect(
      problems({
        headers: ['ok', 'bad header', 3],
        ignore: ['/ok', 'meta/requestId', 7, 'header:', '/a~2'],
        redact: '/token',
        keep: -1,
        noiseThreshold: 0.5,
        maxDifferencesPerResponse: 5000,
        keepp: 3,
      }),
    ).toEqual([
      'diff.headers[1]: must be a header name',
      'diff.headers[2]: expected a string, received the number 3',
      "diff.ignore[1]: must be a path starting with '/' or 'header:'",
      'diff.ignore[2]: expected a string, received the number 7',
      "diff.ignore[3]: must name a header after 'header:'",
      "diff.ignore[4]: has a '~' not followed by 0 or 1 (escape '~' as ~0 and '/' as ~1)",
      "diff.redact: expected an array, received the string '/token'",
      'diff.keep: expected a number ≥ 0, received the number -1',
      'diff.noiseThreshold: expected an integer, received the number 0.5',
      'diff.maxDifferencesPerResponse: expected a number ≤ 1000, received the number 5000',
      "diff.keepp: unknown option; did you mean 'keep'?",
    ]);
    expect(problems('yes')).toEqual(['diff: must be an object']);
  });

  test('createDiffer refuses invalid options', () => {
    expect(() => createDiffer({ ignore: ['x'] })).toThrow(/diff\.ignore\[0\]: must be a path/);
  });
});

// Parameter styles read back what OpenAPI's serialization writes (properties over generated values),
// and hostile query strings, headers and cookies never make validation throw or its answer grow.
import type { Exchange } from '@gatehousejs/core';
import { isGatehouseError } from '@gatehousejs/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type ParamSpec, parseCookies, readCookie, readHeader, readPath, readQuery } from './parameters.js';
import { OpenApiValidator } from './validator.js';

const SEED = 20261204;
const spec = (over: Partial<ParamSpec>): ParamSpec => ({
  name: 'p',
  key: 'p',
  location: 'query',
  style: 'form',
  explode: true,
  shape: 'array',
  json: false,
  required: false,
  propertyKeys: undefined,
  ...over,
});

// Values without any of the styles' separators (which OpenAPI leaves ambiguous).
const word = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const query = (text: string) => new URLSearchParams(text);

describe('query styles read back their serialization', () => {
  test('form, explode: repeated keys', () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), (items) => {
        const text = items.map((v) => `p=${encodeURIComponent(v)}`).join('&');
        expect(readQuery(query(text), spec({}))).toEqual(items);
      }),
      { seed: SEED },
    );
  });

  for (const [style, separator] of [
    ['form', ','],
    ['spaceDelimited', ' '],
    ['pipeDelimited', '|'],
  ] as const) {
    test(`${style}, not exploded: one key, items joined by '${separator}'`, () => {
      fc.assert(
        fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), (items) => {
          const text = `p=${encodeURIComponent(items.join(separator))}`;
          expect(readQuery(query(text), spec({ style, explode: false }))).toEqual(items);
        }),
        { seed: SEED },
      );
    });
  }

  test('deepObject: name[key]=value', () => {
    fc.assert(
      fc.property(fc.dictionary(word, word, { minKeys: 1, maxKeys: 5 }), (object) => {
        const text = Object.entries(object)
          .map(([k, v]) => `p%5B${encodeURIComponent(k)}%5D=${encodeURIComponent(v)}`)
          .join('&');
        expect({
          ...(readQuery(query(text), spec({ style: 'deepObject', shape: 'object' })) as object),
        }).toEqual(object);
      }),
      { seed: SEED },
    );
  });

  test('form, exploded object: its properties are keys of their own', () => {
    const s = spec({ shape: 'object', propertyKeys: ['role', 'name'] });
    expect({ ...(readQuery(query('role=admin&name=Alex&other=1'), s) as object) }).toEqual({
      role: 'admin',
      name: 'Alex',
    });
    expect(readQuery(query('other=1'), s)).toBeUndefined();
  });

  test('a primitive given twice stays an array (the schema then refuses it)', () => {
    expect(readQuery(query('p=1&p=2'), spec({ shape: 'primitive' }))).toEqual(['1', '2']);
    expect(readQuery(query('p='), spec({ shape: 'primitive' }))).toBe('');
    expect(readQuery(query('q=1'), spec({ shape: 'primitive' }))).toBeUndefined();
  });
});

describe('path styles read back their serialization', () => {
  test('simple, label and matrix, arrays and objects, exploded or not', () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 5 }), (items) => {
        const p = (style: string, explode: boolean) =>
          spec({ location: 'path', style, explode, name: 'id', key: 'id' });
        expect(readPath(items.join(','), p('simple', false))).toEqual(items);
        expect(readPath(`.${items.join('.')}`, p('label', true))).toEqual(items);
        expect(readPath(`.${items.join(',')}`, p('label', false))).toEqual(items);
        expect(readPath(items.map((v) => `;id=${v}`).join(''), p('matrix', true))).toEqual(items);
        expect(readPath(`;id=${items.join(',')}`, p('matrix', false))).toEqual(items);
      }),
      { seed: SEED },
    );
    const object = spec({ location: 'path', style: 'simple', shape: 'object', explode: true });
    expect({ ...(readPath('role=admin,firstName=Alex', object) as object) }).toEqual({
      role: 'admin',
      firstName: 'Alex',
    });
    expect({ ...(readPath('role,admin,firstName,Alex', { ...object, explode: false }) as object) }).toEqual({
      role: 'admin',
      firstName: 'Alex',
    });
    expect(
      readPath(';id=5', spec({ location: 'path', style: 'matrix', shape: 'primitive', name: 'id' })),
    ).toBe('5');
  });
});

describe('headers and cookies', () => {
  test('a header list, repeated headers joined', () => {
    expect(readHeader(['1,2', '3'], spec({ location: 'header', style: 'simple' }))).toEqual(['1', '2', '3']);
    expect(readHeader(undefined, spec({ location: 'header' }))).toBeUndefined();
  });

  test('cookies: first wins, quotes dropped, junk ignored', () => {
    const jar = parseCookies('a=1; b="two"; a=3; ; =x; junk; c=4,5');
    expect([...jar]).toEqual([
      ['a', '1'],
      ['b', 'two'],
      ['c', '4,5'],
    ]);
    expect(readCookie(jar, spec({ location: 'cookie', name: 'c' }))).toEqual(['4', '5']);
  });
});

// A validator over a small document, driven with a stand-in exchange: only what request validation
// reads (method, path, query, headers, state), so hostile input can be thrown at it quickly.
const document = {
  openapi: '3.1.0',
  info: { title: 'hostile', version: '1' },
  paths: {
    '/items/{id}': {
      get: {
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'integer' } },
          { name: 'tags', in: 'query', schema: { type: 'array', items: { type: 'string', maxLength: 5 } } },
          {
            name: 'f',
            in: 'query',
            style: 'deepObject',
            schema: { type: 'object', properties: { a: { type: 'number' } } },
          },
          { name: 'x-n', in: 'header', schema: { type: 'integer' } },
          { name: 's', in: 'cookie', schema: { type: 'string', maxLength: 3 } },
          { name: 'j', in: 'query', content: { 'application/json': { schema: { type: 'object' } } } },
        ],
        responses: { 200: { description: 'ok' } },
      },
    },
  },
};

function exchangeFor(url: string, headers: Record<string, string> = {}): Exchange {
  const q = url.indexOf('?');
  const state: Record<string, unknown> = {};
  return {
    method: 'GET',
    path: q === -1 ? url : url.slice(0, q),
    query: new URLSearchParams(q === -1 ? '' : url.slice(q + 1)),
    req: { url, headers },
    state,
    annotate() {},
  } as unknown as Exchange;
}

describe('hostile requests', () => {
  test('any query string, header and cookie: an answer (continue or a bounded 400), never a throw of another kind', async () => {
    const validator = new OpenApiValidator({ document, requests: { maxErrors: 5 } });
    await validator.start();
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 300 }),
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 60 }),
        async (queryText, header, cookie) => {
          const exchange = exchangeFor(`/items/1?${queryText}`, { 'x-n': header, cookie });
          try {
            await validator.onRequest(exchange);
          } catch (error) {
            expect(isGatehouseError(error)).toBe(true);
            const e = error as { code: string; extensions?: { errors?: unknown[] } };
            expect(e.code).toBe('GH_OPENAPI_REQUEST_INVALID');
            expect(e.extensions?.errors?.length).toBeGreaterThan(0);
            expect(e.extensions?.errors?.length).toBeLessThanOrEqual(5);
          }
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  test('found counterexamples, kept: separators, brackets, broken percent-encoding, JSON', async () => {
    const validator = new OpenApiValidator({ document });
    await validator.start();
    const outcome = async (url: string, headers?: Record<string, string>) => {
      try {
        await validator.onRequest(exchangeFor(url, headers));
        return 'continue';
      } catch (error) {
        const e = error as { extensions?: { errors?: Array<{ name?: string; keyword: string }> } };
        return e.extensions?.errors?.map((i) => `${i.name}:${i.keyword}`).join(' ');
      }
    };
    expect(await outcome('/items/1?f[a]=1.5&tags=ab')).toBe('continue');
    expect(await outcome('/items/1?f[a]=x')).toBe('f:type');
    expect(await outcome('/items/1?f[=1')).toBe('f[:unknown');
    expect(await outcome('/items/1?%zz=1')).toBe('%zz:unknown');
    expect(await outcome('/items/1?tags=toolong')).toBe('tags:maxLength');
    expect(await outcome('/items/1?j={"a":1}')).toBe('continue');
    expect(await outcome('/items/1?j=[1]')).toBe('j:type');
    expect(await outcome('/items/1?j={')).toBe('j:parse');
    expect(await outcome('/items/1', { 'x-n': '1e400' })).toBe('x-n:type');
    expect(await outcome('/items/1', { cookie: 's=abcd' })).toBe('s:maxLength');
    expect(await outcome('/items/1?__proto__=1&constructor=2')).toBe('__proto__:unknown constructor:unknown');
  });
});

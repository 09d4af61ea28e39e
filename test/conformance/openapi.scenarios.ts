// OpenAPI validation on every framework: parameters in every location and style (with coercion and
// bounded errors), JSON, form and multipart bodies (size caps, malformed bodies, content types), 405
// with Allow, the unknown-path and unknown-query policies, responses in enforce mode whichever way the
// framework writes them, mocks from examples, and the reference page. The document describes the
// conformance app's own routes (/hello, /view/…), so every request reaches a real handler.
import type { OpenApiOptions } from '@gatehousejs/openapi';
import { expect } from 'vitest';
import type { Expectation, Suite } from '../support/conformance.js';
import type { RawRequest } from '../support/raw-http.js';

const item = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 20 },
    count: { type: 'integer', minimum: 0 },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
    id: { type: 'integer', readOnly: true },
  },
};

/** The document: OpenAPI 3.0 (3.1 is covered by the RealWorld document in the package's tests). */
export const conformanceDocument = {
  openapi: '3.0.3',
  info: { title: 'Conformance <API>', version: '1.0.0' },
  paths: {
    '/hello': {
      get: {
        operationId: 'hello',
        responses: {
          200: {
            description: 'greeting',
            content: {
              'application/json': {
                schema: { type: 'object', required: ['hello'], properties: { hello: { type: 'string' } } },
              },
            },
          },
        },
      },
    },
    '/view/items/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
      get: {
        operationId: 'getItem',
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 100 } },
          {
            name: 'tags',
            in: 'query',
            schema: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } },
          },
          {
            name: 'ids',
            in: 'query',
            style: 'pipeDelimited',
            explode: false,
            schema: { type: 'array', items: { type: 'integer' }, maxItems: 4 },
          },
          {
            name: 'filter',
            in: 'query',
            style: 'deepObject',
            explode: true,
            schema: {
              type: 'object',
              additionalProperties: false,
              properties: { min: { type: 'number' }, max: { type: 'number' } },
            },
          },
          { name: 'X-Trace', in: 'header', schema: { type: 'string', pattern: '^[a-f0-9]{8}$' } },
          { name: 'session', in: 'cookie', schema: { type: 'string', minLength: 4 } },
          { name: 'debug', in: 'query', schema: { type: 'boolean' } },
        ],
        responses: {
          200: {
            description: 'the view',
            content: {
              'application/json': {
                schema: { type: 'object', required: ['path'], properties: { path: { type: 'string' } } },
              },
            },
          },
        },
      },
    },
    '/view/items': {
      post: {
        operationId: 'createItem',
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { $ref: '#/components/schemas/Item' } },
            'application/x-www-form-urlencoded': { schema: { $ref: '#/components/schemas/Item' } },
            'multipart/form-data': {
              schema: {
                type: 'object',
                required: ['name', 'file'],
                properties: {
                  name: { type: 'string', minLength: 1 },
                  count: { type: 'integer' },
                  file: { type: 'string', format: 'binary' },
                },
              },
            },
          },
        },
        responses: {
          200: { description: 'the view', content: { 'application/json': { schema: { type: 'object' } } } },
        },
      },
    },
    '/view/strict': {
      get: {
        operationId: 'strict',
        responses: {
          200: {
            description: 'a view the app never writes correctly',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['missing'],
                  properties: { missing: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
    '/view/loose': {
      get: {
        operationId: 'loose',
        responses: {
          '2XX': {
            description: 'anything JSON',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        },
      },
    },
    '/mocked/orders/{id}': {
      get: {
        operationId: 'getOrder',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          200: {
            description: 'an order',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { id: { type: 'string' }, total: { type: 'number' } } },
                examples: { first: { value: { id: 'o-1', total: 12.5 } } },
              },
            },
          },
          404: { description: 'none' },
        },
      },
    },
  },
  components: { schemas: { Item: item } },
};

const options = (extra: Partial<OpenApiOptions> = {}): OpenApiOptions => ({
  document: conformanceDocument,
  ...extra,
});

const get = (path: string, headers: Record<string, string> = {}): RawRequest => ({ path, headers });
const post = (path: string, type: string, body: string | Buffer): RawRequest => ({
  method: 'POST',
  path,
  headers: { 'content-type': type },
  body,
});

/** A 400 whose `errors` are exactly these (in order). */
function invalid(errors: Array<Record<string, unknown>>): Expectation {
  return {
    status: 400,
    problem: 'GH_OPENAPI_REQUEST_INVALID',
    body: (body: { errors?: unknown }) => {
      expect(body.errors).toEqual(errors);
    },
  };
}

const ok = (check?: (body: { path?: string; query?: Record<string, string> }) => void): Expectation => ({
  status: 200,
  ...(check === undefined ? {} : { body: check }),
});

const BOUNDARY = 'gatehouseBoundary';
const multipart = (parts: Array<{ name: string; value: string; filename?: string }>): Buffer =>
  Buffer.from(
    `${parts
      .map(
        (p) =>
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"\r\nContent-Type: application/octet-stream`}\r\n\r\n${p.value}\r\n`,
      )
      .join('')}--${BOUNDARY}--\r\n`,
  );

export const requestSuite: Suite = {
  name: 'openapi: requests',
  app: {
    chain: (gw) => [gw.validate(options({ requests: { maxBodyBytes: 1024 } }))],
  },
  scenarios: [
    {
      name: 'a path outside the document passes (unknownPath: pass)',
      request: get('/view/other'),
      expect: ok(),
    },
    {
      name: 'valid parameters in every location reach the handler',
      request: get('/view/items/7?limit=10&tags=a&tags=b&ids=1|2|3&filter[min]=1.5&debug=true', {
        'x-trace': 'deadbeef',
        cookie: 'session=abcd; other=1',
      }),
      expect: ok((body) => expect(body.path).toBe('/view/items/7')),
    },
    {
      name: 'a path parameter is coerced and checked (id=0 < minimum 1)',
      request: get('/view/items/0'),
      expect: invalid([{ in: 'path', name: 'id', keyword: 'minimum', detail: 'must be >= 1' }]),
    },
    {
      name: 'a path parameter of the wrong type',
      request: get('/view/items/seven'),
      expect: invalid([{ in: 'path', name: 'id', keyword: 'type', detail: 'must be integer' }]),
    },
    {
      name: 'query: integer over its maximum',
      request: get('/view/items/1?limit=101'),
      expect: invalid([{ in: 'query', name: 'limit', keyword: 'maximum', detail: 'must be <= 100' }]),
    },
    {
      name: 'query: an exploded array item outside its enum',
      request: get('/view/items/1?tags=a&tags=c'),
      expect: invalid([
        { in: 'query', name: 'tags', pointer: '/1', keyword: 'enum', detail: 'must be one of "a", "b"' },
      ]),
    },
    {
      name: 'query: pipeDelimited items coerced to integers',
      request: get('/view/items/1?ids=1|x'),
      expect: invalid([
        { in: 'query', name: 'ids', pointer: '/1', keyword: 'type', detail: 'must be integer' },
      ]),
    },
    {
      name: 'query: deepObject with an unknown property',
      request: get('/view/items/1?filter[min]=1&filter[evil]=2'),
      expect: invalid([
        {
          in: 'query',
          name: 'filter',
          pointer: '/evil',
          keyword: 'additionalProperties',
          detail: "property 'evil' is not allowed",
        },
      ]),
    },
    {
      name: 'query: a boolean that is not one',
      request: get('/view/items/1?debug=maybe'),
      expect: invalid([{ in: 'query', name: 'debug', keyword: 'type', detail: 'must be boolean' }]),
    },
    {
      name: 'query: an unknown parameter is refused (unknownQuery: reject)',
      request: get('/view/items/1?limti=5'),
      expect: invalid([
        { in: 'query', name: 'limti', keyword: 'unknown', detail: 'is not a parameter of this operation' },
      ]),
    },
    {
      name: 'header: pattern, named as declared',
      request: get('/view/items/1', { 'x-trace': 'NOT-HEX!' }),
      expect: invalid([
        { in: 'header', name: 'X-Trace', keyword: 'pattern', detail: 'must match pattern "^[a-f0-9]{8}$"' },
      ]),
    },
    {
      name: 'cookie: too short',
      request: get('/view/items/1', { cookie: 'session=ab' }),
      expect: invalid([
        {
          in: 'cookie',
          name: 'session',
          keyword: 'minLength',
          detail: 'must NOT have fewer than 4 characters',
        },
      ]),
    },
    {
      name: 'issues in several locations are listed together',
      request: get('/view/items/0?limit=500&zzz=1', { cookie: 'session=ab' }),
      expect: invalid([
        { in: 'path', name: 'id', keyword: 'minimum', detail: 'must be >= 1' },
        { in: 'query', name: 'limit', keyword: 'maximum', detail: 'must be <= 100' },
        {
          in: 'cookie',
          name: 'session',
          keyword: 'minLength',
          detail: 'must NOT have fewer than 4 characters',
        },
        { in: 'query', name: 'zzz', keyword: 'unknown', detail: 'is not a parameter of this operation' },
      ]),
    },
    {
      name: 'hostile query: 500 unknown keys give at most maxErrors (10) issues',
      request: get(`/view/items/1?${Array.from({ length: 500 }, (_, i) => `k${i}=1`).join('&')}`),
      expect: {
        status: 400,
        problem: 'GH_OPENAPI_REQUEST_INVALID',
        body: (body: { errors?: unknown[] }) => expect(body.errors).toHaveLength(10),
      },
    },
    {
      name: 'an undocumented method: 405 with Allow',
      request: { method: 'DELETE', path: '/view/items/1' },
      expect: { status: 405, problem: 'GH_METHOD_NOT_ALLOWED', headers: { allow: 'GET, HEAD' } },
    },
    {
      name: 'HEAD is validated as GET',
      request: { method: 'HEAD', path: '/view/items/0' },
      expect: { status: 400 },
    },
    {
      name: 'JSON body: valid',
      request: post('/view/items', 'application/json', JSON.stringify({ name: 'widget', count: 2 })),
      expect: ok(),
    },
    {
      name: 'JSON body: a readOnly property is not required, an unknown one is refused',
      request: post(
        '/view/items',
        'application/json; charset=utf-8',
        JSON.stringify({ name: 'w', colour: 'red' }),
      ),
      expect: invalid([
        {
          in: 'body',
          pointer: '/colour',
          keyword: 'additionalProperties',
          detail: "property 'colour' is not allowed",
        },
      ]),
    },
    {
      name: 'JSON body: types are not coerced ("2" is not an integer)',
      request: post('/view/items', 'application/json', JSON.stringify({ name: 'w', count: '2' })),
      expect: invalid([{ in: 'body', pointer: '/count', keyword: 'type', detail: 'must be integer' }]),
    },
    {
      name: 'JSON body: missing required property',
      request: post('/view/items', 'application/json', '{}'),
      expect: invalid([
        { in: 'body', pointer: '/name', keyword: 'required', detail: "must have property 'name'" },
      ]),
    },
    {
      name: 'JSON body: malformed',
      request: post('/view/items', 'application/json', '{"name":'),
      expect: { status: 400, problem: 'GH_OPENAPI_BODY_MALFORMED' },
    },
    {
      name: 'JSON body: __proto__ is just a property (refused by additionalProperties)',
      request: post('/view/items', 'application/json', '{"name":"w","__proto__":{"polluted":true}}'),
      expect: invalid([
        {
          in: 'body',
          pointer: '/__proto__',
          keyword: 'additionalProperties',
          detail: "property '__proto__' is not allowed",
        },
      ]),
    },
    {
      name: 'a required body is missing',
      request: { method: 'POST', path: '/view/items' },
      expect: invalid([
        { in: 'body', pointer: '', keyword: 'required', detail: 'a request body is required' },
      ]),
    },
    {
      name: 'form body: fields coerced (count=3), repeated array field',
      request: post('/view/items', 'application/x-www-form-urlencoded', 'name=w&count=3&tags=x&tags=y'),
      expect: ok(),
    },
    {
      name: 'form body: too many array items',
      request: post('/view/items', 'application/x-www-form-urlencoded', 'name=w&tags=1&tags=2&tags=3&tags=4'),
      expect: invalid([
        { in: 'body', pointer: '/tags', keyword: 'maxItems', detail: 'must NOT have more than 3 items' },
      ]),
    },
    {
      name: 'multipart body: fields and a file',
      request: post(
        '/view/items',
        `multipart/form-data; boundary=${BOUNDARY}`,
        multipart([
          { name: 'name', value: 'w' },
          { name: 'count', value: '4' },
          { name: 'file', value: 'binary-bytes', filename: 'a.bin' },
        ]),
      ),
      expect: ok(),
    },
    {
      name: 'multipart body: the file is missing',
      request: post(
        '/view/items',
        `multipart/form-data; boundary=${BOUNDARY}`,
        multipart([{ name: 'name', value: 'w' }]),
      ),
      expect: invalid([
        { in: 'body', pointer: '/file', keyword: 'required', detail: "must have property 'file'" },
      ]),
    },
    {
      name: 'multipart body: broken',
      request: post('/view/items', 'multipart/form-data', 'no boundary here'),
      expect: { status: 400, problem: 'GH_OPENAPI_BODY_MALFORMED' },
    },
    {
      name: 'an unsupported content type: 415 naming the accepted ones',
      request: post('/view/items', 'text/plain', 'name=w'),
      expect: {
        status: 415,
        problem: 'GH_OPENAPI_UNSUPPORTED_MEDIA_TYPE',
        body: (body: { accepted?: unknown }) =>
          expect(body.accepted).toEqual([
            'application/json',
            'application/x-www-form-urlencoded',
            'multipart/form-data',
          ]),
      },
    },
    {
      name: 'a body over maxBodyBytes (by Content-Length): 413 without reading it',
      request: post('/view/items', 'application/json', JSON.stringify({ name: 'x'.repeat(2000) })),
      expect: { status: 413, problem: 'GH_OPENAPI_BODY_TOO_LARGE', headers: { connection: 'close' } },
    },
    {
      name: 'a chunked body over maxBodyBytes: 413',
      request: {
        raw: `POST /view/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n800\r\n${'x'.repeat(0x800)}\r\n0\r\n\r\n`,
      },
      expect: { status: 413, problem: 'GH_OPENAPI_BODY_TOO_LARGE' },
    },
  ],
};

export const policySuite: Suite = {
  name: 'openapi: strict policies, enforced responses, mocks for unanswered operations',
  app: {
    chain: (gw) => [
      gw.validate(
        options({
          requests: { unknownPath: 'reject', unknownQuery: 'ignore' },
          responses: { mode: 'enforce' },
          mock: 'unhandled',
          basePath: ['', '/v1'],
        }),
      ),
    ],
  },
  scenarios: [
    {
      name: 'a path outside the document: 404 (unknownPath: reject)',
      request: get('/view/other'),
      expect: { status: 404, problem: 'GH_OPENAPI_UNKNOWN_OPERATION' },
    },
    { name: 'an unknown query parameter is ignored', request: get('/view/items/3?whatever=1'), expect: ok() },
    {
      name: 'a response that breaks its schema becomes a 500 problem, without details',
      request: get('/view/strict'),
      expect: { status: 500, problem: 'GH_OPENAPI_RESPONSE_INVALID', absent: ['missing', 'rawPath'] },
    },
    {
      name: "enforce mode leaves the validator's own 400 as it is (never checked against the document)",
      request: get('/view/items/0'),
      expect: invalid([{ in: 'path', name: 'id', keyword: 'minimum', detail: 'must be >= 1' }]),
    },
    {
      name: 'a conforming response is sent as written (res.json / ctx.body)',
      request: get('/hello'),
      expect: { status: 200, body: { hello: 'world' } },
    },
    {
      name: 'a 2XX range response matches any success',
      request: get('/view/loose'),
      expect: ok(),
    },
    {
      name: 'an operation nothing answers is answered from its example',
      request: get('/mocked/orders/9'),
      expect: { status: 200, body: { id: 'o-1', total: 12.5 }, headers: { 'x-gatehouse-mock': 'true' } },
    },
    {
      name: 'the document under a second base path',
      request: get('/v1/mocked/orders/9'),
      expect: { status: 200, body: { id: 'o-1', total: 12.5 } },
    },
  ],
};

export const mockSuite: Suite = {
  name: "openapi: mock 'always' and the reference page",
  app: {
    chain: (gw) => [gw.validate(options({ mock: 'always', reference: { path: '/docs' } }))],
  },
  scenarios: [
    {
      name: 'a documented operation is answered from examples before the app',
      request: get('/mocked/orders/1'),
      expect: { status: 200, body: { id: 'o-1', total: 12.5 } },
    },
    {
      name: 'an operation without examples is answered from its schema',
      request: get('/view/items/2'),
      expect: { status: 200, body: { path: 'string' } },
    },
    {
      name: 'the reference page is served from this process (no CDN), title escaped',
      request: get('/docs'),
      expect: {
        status: 200,
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': /script-src 'self'/,
        },
        absent: ['https://', '<API>'],
      },
    },
    {
      name: 'the document the page renders',
      request: get('/docs/openapi.json'),
      expect: {
        status: 200,
        body: (body: { info?: { title?: string } }) => expect(body.info?.title).toBe('Conformance <API>'),
      },
    },
    {
      name: "the renderer's script",
      request: get('/docs/assets/swagger-ui-bundle.js'),
      expect: { status: 200, headers: { 'content-type': 'text/javascript; charset=utf-8' } },
    },
  ],
};

export const openapiSuites: Suite[] = [requestSuite, policySuite, mockSuite];

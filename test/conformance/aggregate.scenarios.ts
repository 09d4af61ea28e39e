// Composition and caching on every framework: a BFF screen built from dependent calls (fan-out,
// conditional, optional with fallback), shaping, the status a failed required call maps to (404 stays
// 404, 401 stays 401), partial answers, every fault the issue names (a hang, invalid JSON, a body over
// the cap, a 500, a reset mid-body), request values crafted to change the upstream request, and a
// cached proxied route (hits with Age and Cache-Status, no poisoning through an unkeyed header, Vary).
import { apiKeyAuthenticator } from '@gatehousejs/auth';
import { afterAll, expect } from 'vitest';
import { startAggregateUpstream } from '../support/aggregate-upstream.js';
import type { Expectation, Suite } from '../support/conformance.js';

const upstream = await startAggregateUpstream();
afterAll(() => upstream.close());

type Body = Record<string, unknown>;

/** A problem with these per-call errors (each a subset match). */
const failedWith = (code: string, status: number, errors: Array<Record<string, unknown>>): Expectation => ({
  status,
  problem: code,
  headers: { 'cache-control': 'no-store' },
  body: (body: Body) => {
    expect(body.errors).toEqual(errors.map((e) => expect.objectContaining(e)));
  },
  absent: ['127.0.0.1', 'database on fire'],
});

const ORDER_42 = {
  id: '42',
  customerId: 'c-42',
  lines: [{ sku: 'a' }, { sku: 'b' }, { sku: 'c' }],
};

export const aggregateSuite: Suite = {
  name: 'aggregate: gw.aggregate() compositions and faults',
  app: {
    config: { services: { up: { url: upstream.url } } },
    chain: (gw) => [
      gw.aggregate({
        name: 'order-screen',
        path: '/screens/orders/:id',
        calls: {
          order: { service: 'up', path: '/orders/{/params/id}', omit: ['/internal'] },
          customer: { service: 'up', path: '/customers/{/order/customerId}', pick: ['/name', '/tier'] },
          items: {
            service: 'up',
            path: '/items/{/item/sku}',
            forEach: '/order/lines',
            concurrency: 2,
            pick: ['/sku', '/price'],
          },
          recs: {
            service: 'up',
            path: '/recs',
            query: { user: '{/order/customerId}' },
            policy: 'optional',
            fallback: [],
          },
          gift: {
            service: 'up',
            path: '/items/gift-wrap',
            when: '/order/giftNote',
            policy: 'optional',
            pick: ['/sku'],
          },
        },
      }),
      gw.aggregate({
        name: 'merged',
        path: '/screens/merged/:id',
        combine: 'merge',
        calls: {
          order: {
            service: 'up',
            path: '/orders/{/params/id}',
            pick: ['/id', '/customerId'],
            rename: { '/customerId': '/customer/id' },
          },
          customer: {
            service: 'up',
            path: '/customers/c-{/params/id}',
            pick: ['/name'],
            rename: { '/name': '/customerName' },
          },
        },
      }),
      gw.aggregate({
        name: 'batch',
        path: '/screens/batch/:id',
        calls: {
          order: { service: 'up', path: '/orders/{/params/id}', include: false },
          items: {
            service: 'up',
            path: '/items',
            forEach: '/order/lines',
            batch: { query: 'ids', value: '/sku' },
          },
        },
      }),
      gw.aggregate({
        name: 'partial',
        path: '/screens/partial',
        calls: {
          order: { service: 'up', path: '/orders/1', pick: ['/id'] },
          recs: { service: 'up', path: '/hang', policy: 'optional', timeoutMs: 100 },
          extras: { service: 'up', path: '/fail', policy: 'optional', fallback: { none: true } },
        },
      }),
      gw.aggregate({
        name: 'hang',
        path: '/screens/hang',
        timeoutMs: 150,
        calls: { slow: { service: 'up', path: '/hang' } },
      }),
      gw.aggregate({
        name: 'bad-json',
        path: '/screens/bad-json',
        calls: { x: { service: 'up', path: '/bad-json' } },
      }),
      gw.aggregate({
        name: 'big',
        path: '/screens/big',
        maxBodyBytes: 1024,
        calls: { x: { service: 'up', path: '/big' } },
      }),
      gw.aggregate({ name: 'fail', path: '/screens/fail', calls: { x: { service: 'up', path: '/fail' } } }),
      gw.aggregate({
        name: 'reset',
        path: '/screens/reset',
        calls: { x: { service: 'up', path: '/reset' } },
      }),
      gw.aggregate({
        name: 'echo',
        path: '/screens/echo/:x',
        calls: { e: { service: 'up', path: '/echo/{/params/x}/tail' } },
      }),
      gw.aggregate({
        name: 'named',
        path: '/screens/named',
        calls: { e: { service: 'up', path: '/echo/{/query/name}' } },
      }),
      gw.aggregate({
        name: 'search',
        path: '/screens/search',
        calls: { e: { service: 'up', path: '/echo/search', query: { q: '{/query/q}' } } },
      }),
      gw.aggregate({
        name: 'tenant',
        path: '/screens/tenant',
        calls: { e: { service: 'up', path: '/echo/t', headers: { 'x-tenant': '{/query/tenant}' } } },
      }),
    ],
  },
  scenarios: [
    {
      name: 'a screen: dependent calls, a fan-out, an optional call, a skipped conditional call',
      request: { path: '/screens/orders/42' },
      expect: {
        status: 200,
        headers: {
          'content-type': /^application\/json/,
          'cache-control': 'no-store',
          'x-gatehouse-partial': null,
        },
        body: {
          order: ORDER_42,
          customer: { name: 'Ada', tier: 'gold' },
          items: [
            { sku: 'a', price: 10 },
            { sku: 'b', price: 10 },
            { sku: 'c', price: 10 },
          ],
          recs: [{ sku: 'z', for: 'c-42' }],
        },
      },
    },
    {
      name: 'a conditional call runs when its value is present',
      request: { path: '/screens/orders/gift' },
      expect: { status: 200, body: (b: Body) => expect(b.gift).toEqual({ sku: 'gift-wrap' }) },
    },
    {
      name: 'merge with pick and rename',
      request: { path: '/screens/merged/7' },
      expect: { status: 200, body: { id: '7', customer: { id: 'c-7' }, customerName: 'Ada' } },
    },
    {
      name: 'a batched call: one request for the whole collection',
      request: { path: '/screens/batch/3' },
      expect: {
        status: 200,
        body: {
          items: [
            { sku: 'a', price: 10 },
            { sku: 'b', price: 10 },
            { sku: 'c', price: 10 },
          ],
        },
      },
    },
    {
      name: 'a required call answering 404 makes the answer 404, with an errors entry',
      request: { path: '/screens/orders/missing' },
      expect: failedWith('GH_AGGREGATE_NOT_FOUND', 404, [
        { call: 'order', service: 'up', required: true, status: 404, code: 'GH_AGGREGATE_UPSTREAM_STATUS' },
      ]),
    },
    {
      name: 'a required call answering 401 makes the answer 401',
      request: { path: '/screens/orders/locked' },
      expect: failedWith('GH_AGGREGATE_UNAUTHORIZED', 401, [{ call: 'order', status: 401 }]),
    },
    {
      name: 'a required call answering 403 makes the answer 403',
      request: { path: '/screens/orders/forbidden' },
      expect: failedWith('GH_AGGREGATE_FORBIDDEN', 403, [{ call: 'order', status: 403 }]),
    },
    {
      name: 'a required call answering 500 makes the answer 502 (nothing of its body leaks)',
      request: { path: '/screens/orders/boom' },
      expect: failedWith('GH_AGGREGATE_UPSTREAM_FAILED', 502, [{ call: 'order', status: 500 }]),
    },
    {
      name: "a value from an upstream answer that would be '..' is refused: 502, the call never sent",
      request: { path: '/screens/orders/dotdot' },
      expect: failedWith('GH_AGGREGATE_UPSTREAM_FAILED', 502, [
        { call: 'customer', code: 'GH_AGGREGATE_UPSTREAM_FAILED' },
      ]),
    },
    {
      name: 'an optional call that hangs past its own deadline and one that fails: a partial answer, flagged',
      request: { path: '/screens/partial' },
      expect: {
        status: 200,
        headers: { 'x-gatehouse-partial': 'recs, extras', 'cache-control': 'no-store' },
        body: {
          order: { id: '1' },
          extras: { none: true },
          _partial: {
            calls: ['recs', 'extras'],
            errors: [
              {
                call: 'recs',
                service: 'up',
                required: false,
                status: 504,
                code: 'GH_AGGREGATE_TIMEOUT',
                detail: 'no answer within 100 ms',
              },
              {
                call: 'extras',
                service: 'up',
                required: false,
                status: 500,
                code: 'GH_AGGREGATE_UPSTREAM_STATUS',
                detail: "'up' answered 500",
              },
            ],
          },
        },
      },
    },
    {
      name: 'a required upstream that hangs: 504 when the composition deadline passes',
      request: { path: '/screens/hang' },
      expect: failedWith('GH_AGGREGATE_TIMEOUT', 504, [{ call: 'slow', code: 'GH_AGGREGATE_TIMEOUT' }]),
    },
    {
      name: 'invalid JSON from a required call: 502',
      request: { path: '/screens/bad-json' },
      expect: failedWith('GH_AGGREGATE_UPSTREAM_FAILED', 502, [
        { call: 'x', code: 'GH_AGGREGATE_INVALID_JSON' },
      ]),
    },
    {
      name: 'a body above the cap: 502, not read beyond it',
      request: { path: '/screens/big' },
      expect: failedWith('GH_AGGREGATE_UPSTREAM_FAILED', 502, [
        { call: 'x', code: 'GH_AGGREGATE_BODY_TOO_LARGE' },
      ]),
    },
    {
      name: 'a 500 from a required call: 502',
      request: { path: '/screens/fail' },
      expect: failedWith('GH_AGGREGATE_UPSTREAM_FAILED', 502, [{ call: 'x', status: 500 }]),
    },
    {
      name: 'a reset mid-body: 502',
      request: { path: '/screens/reset' },
      expect: failedWith('GH_AGGREGATE_UPSTREAM_FAILED', 502, [
        { call: 'x', code: 'GH_UPSTREAM_BAD_RESPONSE' },
      ]),
    },
    {
      name: "a path value with '?' and '=' stays inside one encoded segment",
      request: { path: '/screens/echo/a%3Fadmin%3D1' },
      expect: {
        status: 200,
        body: { e: { url: '/echo/a%3Fadmin%3D1/tail', headers: { 'x-tenant': null } } },
      },
    },
    {
      name: "a value '../admin' becomes one segment, its slash encoded",
      request: { path: '/screens/named?name=..%2Fadmin' },
      expect: { status: 200, body: { e: { url: '/echo/..%2Fadmin', headers: { 'x-tenant': null } } } },
    },
    {
      name: "a value '..' is refused with 400",
      request: { path: '/screens/named?name=..' },
      expect: failedWith('GH_AGGREGATE_BAD_VALUE', 400, [{ call: 'e', code: 'GH_AGGREGATE_BAD_VALUE' }]),
    },
    {
      name: 'a missing request value is refused with 400',
      request: { path: '/screens/named' },
      expect: failedWith('GH_AGGREGATE_BAD_VALUE', 400, [{ call: 'e' }]),
    },
    {
      name: "a query value with '&' cannot add a parameter",
      request: { path: '/screens/search?q=x%26admin%3Dtrue' },
      expect: {
        status: 200,
        body: { e: { url: '/echo/search?q=x%26admin%3Dtrue', headers: { 'x-tenant': null } } },
      },
    },
    {
      name: 'a header value with CR LF is refused with 400',
      request: { path: '/screens/tenant?tenant=a%0D%0Ax-admin:%201' },
      expect: failedWith('GH_AGGREGATE_BAD_VALUE', 400, [{ call: 'e' }]),
    },
    {
      name: 'a header value from the request reaches the upstream',
      request: { path: '/screens/tenant?tenant=acme' },
      expect: { status: 200, body: { e: { url: '/echo/t', headers: { 'x-tenant': 'acme' } } } },
    },
    {
      name: 'HEAD is answered like GET, without a body',
      request: { method: 'HEAD', path: '/screens/orders/42' },
      expect: { status: 200, headers: { 'content-type': /^application\/json/, 'cache-control': 'no-store' } },
    },
    {
      name: 'other methods and paths pass on',
      request: { method: 'POST', path: '/screens/orders/42' },
      expect: { status: 404, problem: 'GH_NOT_FOUND' },
    },
  ],
};

export const cacheSuite: Suite = {
  name: 'aggregate: a cached proxied route (routes cache: true)',
  app: {
    config: { services: { up: { url: upstream.url } } },
    chain: (gw) => [
      gw.routes({
        table: [
          {
            name: 'shaped',
            path: '/cached/shaped',
            service: 'up',
            mode: 'remote',
            cache: true,
            responseHeaders: { set: { 'x-served-by': 'gatehouse' }, remove: ['cache-control'] },
          },
          { name: 'cached', path: '/cached/*', service: 'up', mode: 'remote', cache: true },
        ],
      }),
    ],
  },
  scenarios: [
    {
      name: 'the first answer is stored, the second is a hit with Age and Cache-Status',
      before: [
        {
          request: { path: '/cached/fresh' },
          expect: { status: 200, headers: { 'cache-status': 'gatehouse; fwd=uri-miss; stored' } },
        },
      ],
      request: { path: '/cached/fresh' },
      expect: {
        status: 200,
        headers: {
          'cache-status': /^gatehouse; hit; ttl=(59|60)$/,
          age: /^(0|1)$/,
          'cache-control': 'max-age=60',
        },
        body: { resource: 'fresh', host: 'conformance.test' },
      },
      clock: [/ttl=(\d+)/, /^age: (\d+)$/m],
    },
    {
      name: 'an unkeyed header (X-Forwarded-Host from an untrusted client) cannot poison the entry',
      before: [{ path: '/cached/host', headers: { 'x-forwarded-host': 'evil.example' } }],
      request: { path: '/cached/host' },
      expect: {
        status: 200,
        headers: { 'cache-status': /^gatehouse; hit/ },
        body: { resource: 'host', host: 'conformance.test' },
        absent: ['evil.example'],
      },
      clock: [/ttl=(\d+)/, /^age: (\d+)$/m],
    },
    {
      name: 'a header the upstream varies on keys the entry: another value is its own variant',
      before: [{ path: '/cached/lang', headers: { 'accept-language': 'xx-evil' } }],
      request: { path: '/cached/lang', headers: { 'accept-language': 'en' } },
      expect: {
        status: 200,
        headers: { 'cache-status': 'gatehouse; fwd=uri-miss; stored', vary: 'accept-language' },
        body: { resource: 'lang', host: 'conformance.test', lang: 'en' },
        absent: ['xx-evil'],
      },
    },
    {
      name: "a client's conditional request on a fresh entry: 304 from the cache, no body",
      before: [{ path: '/cached/etag' }],
      request: { path: '/cached/etag', headers: { 'if-none-match': '"e1"' } },
      expect: {
        status: 304,
        headers: { etag: '"e1"', 'cache-status': /^gatehouse; hit/, 'content-type': null },
      },
      clock: [/ttl=(\d+)/, /^age: (\d+)$/m],
    },
    {
      name: "a hit is shaped by the route's response header rules like any answer",
      before: [
        {
          request: { path: '/cached/shaped' },
          expect: { status: 200, headers: { 'x-served-by': 'gatehouse', 'cache-control': null } },
        },
      ],
      request: { path: '/cached/shaped' },
      expect: {
        status: 200,
        headers: {
          'cache-status': /^gatehouse; hit; ttl=(59|60)$/,
          'x-served-by': 'gatehouse',
          'cache-control': null,
        },
        body: { resource: 'shaped', host: 'conformance.test' },
      },
      clock: [/ttl=(\d+)/, /^age: (\d+)$/m],
    },
    {
      // The cache stores whole answers only: a Range request goes to the upstream (which may answer
      // 206), never to a stored 200, whether the route or the caching client looks first.
      name: 'a Range request on a stored entry is forwarded, not answered from the cache',
      before: [{ path: '/cached/ranged' }],
      request: { path: '/cached/ranged', headers: { range: 'bytes=0-3' } },
      expect: {
        status: 200,
        headers: { 'cache-status': null },
        body: { resource: 'ranged', host: 'conformance.test' },
      },
    },
    {
      name: 'an answer varying on a header the route writes is never found from the incoming request',
      // Stored for host a.example; the second request is for b.example and claims a.example in an
      // untrusted X-Forwarded-Host: the route forwards b.example, so a.example's answer must not be given.
      before: [{ path: '/cached/by-host', headers: { host: 'a.example' } }],
      request: { path: '/cached/by-host', headers: { host: 'b.example', 'x-forwarded-host': 'a.example' } },
      expect: {
        status: 200,
        headers: { 'cache-status': 'gatehouse; fwd=uri-miss; stored' },
        body: { resource: 'by-host', host: 'b.example' },
      },
    },
    {
      name: 'a private answer is never stored',
      before: [{ path: '/cached/private' }],
      request: { path: '/cached/private' },
      expect: { status: 200, headers: { 'cache-status': 'gatehouse; fwd=uri-miss', age: null } },
    },
  ],
};

export const cacheAdminSuite: Suite = {
  name: 'aggregate: the response cache on the admin API (purge, counters)',
  app: {
    config: { services: { up: { url: upstream.url } }, admin: { access: { peers: ['loopback'] } } },
    chain: (gw) => [
      gw.admin(),
      gw.routes({
        table: [{ name: 'cached', path: '/cached/*', service: 'up', mode: 'remote', cache: true }],
      }),
    ],
  },
  scenarios: [
    {
      name: 'purge by key: the next request is a miss again',
      before: [
        {
          request: { path: '/cached/purge-me' },
          expect: { status: 200, headers: { 'cache-status': /stored/ } },
        },
        {
          request: { path: '/cached/purge-me' },
          expect: { status: 200, headers: { 'cache-status': /^gatehouse; hit/ } },
        },
        {
          request: { method: 'POST', path: '/cache/purge?key=up:/cached/purge-me' },
          expect: { status: 200, body: { purged: 1 } },
        },
      ],
      request: { path: '/cached/purge-me' },
      expect: { status: 200, headers: { 'cache-status': 'gatehouse; fwd=uri-miss; stored' } },
    },
    {
      name: 'purge by prefix',
      before: [{ path: '/cached/p-1' }, { path: '/cached/p-2' }],
      request: { method: 'DELETE', path: '/cache/purge?prefix=up:/cached/p-' },
      expect: { status: 200, headers: { 'cache-control': 'no-store' }, body: { purged: 2 } },
    },
    {
      name: 'a purge naming neither key nor prefix is a 400',
      request: { method: 'POST', path: '/cache/purge' },
      expect: { status: 400, problem: 'GH_CACHE_PURGE_INVALID' },
    },
    {
      name: 'purge does not answer GET',
      request: { path: '/cache/purge?key=up:/cached/x' },
      expect: { status: 405, problem: 'GH_METHOD_NOT_ALLOWED' },
    },
    {
      name: 'the counters',
      request: { path: '/cache' },
      expect: {
        status: 200,
        body: (b: Body) => expect(b.cache).toMatchObject({ name: 'gatehouse', store: 'memory' }),
      },
    },
  ],
};

export const cacheAdminClosedSuite: Suite = {
  name: 'aggregate: purging needs the admin access policy',
  app: {
    config: { services: { up: { url: upstream.url } } },
    chain: (gw) => [gw.admin()],
  },
  scenarios: [
    {
      name: 'no access policy: 403',
      request: { method: 'POST', path: '/cache/purge?prefix=up:' },
      expect: { status: 403, problem: 'GH_ADMIN_FORBIDDEN' },
    },
  ],
};

const PRINCIPAL_KEY = 'gh_live_aggregate_0x5dT';

export const principalSuite: Suite = {
  name: 'aggregate: values from the principal (gw.auth())',
  app: {
    config: { services: { up: { url: upstream.url } } },
    chain: (gw) => [
      gw.auth({
        methods: [
          apiKeyAuthenticator({ keys: [{ key: PRINCIPAL_KEY, id: 'team/reports', scopes: ['read'] }] }),
        ],
        default: 'anonymous',
      }),
      gw.aggregate({
        name: 'mine',
        path: '/screens/mine',
        calls: { me: { service: 'up', path: '/echo/users/{/principal/id}' } },
      }),
    ],
  },
  scenarios: [
    {
      name: "the principal's id goes upstream as one encoded segment",
      request: { path: '/screens/mine', headers: { 'x-api-key': PRINCIPAL_KEY } },
      expect: {
        status: 200,
        body: { me: { url: '/echo/users/team%2Freports', headers: { 'x-tenant': null } } },
        absent: [PRINCIPAL_KEY],
      },
    },
    {
      name: 'anonymous: no principal, the call cannot be built (400)',
      request: { path: '/screens/mine' },
      expect: failedWith('GH_AGGREGATE_BAD_VALUE', 400, [{ call: 'me' }]),
    },
  ],
};

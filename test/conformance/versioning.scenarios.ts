// API versioning on every framework: each source (path with strip, header, query, Accept by vendor
// subtype and by parameter with q-values, Content-Type, a function), defaults, every refusal (missing,
// unknown from each source with its status, ambiguous, retired), the version headers, neutral paths,
// and per-version handlers through gw.version.route(). What the application saw comes back in the
// `/view` body; the version the exchange holds in `x-api-version` (set by a probe after gw.version()).
import type { Middleware } from '@gatehousejs/core';
import type { FrameworkGateway } from '@gatehousejs/gateway';
import { expect } from 'vitest';
import type { Expectation, Suite } from '../support/conformance.js';
import type { RawRequest } from '../support/raw-http.js';

const sees = (fields: Record<string, unknown>) => (body: unknown) => {
  expect(body).toMatchObject(fields);
};

/** Shows the exchange's version (`2 header`) on the response, or `none`. */
const versionProbe: Middleware = {
  name: 'version-probe',
  onRequest(exchange) {
    const v = exchange.stateIfSet?.apiVersion;
    exchange.setHeader('x-api-version', v === undefined ? 'none' : `${v.text} ${v.source}`);
  },
};

const get = (path: string, headers: Record<string, string | string[]> = {}): RawRequest => ({
  path,
  headers,
});

const V1_LINKS =
  '<https://docs.example.com/deprecations/v1>; rel="deprecation", <https://docs.example.com/sunset/v1>; rel="sunset"';

/** The headers of a versioned answer from the main suite (v1 deprecated, 2 and 3 current). */
const REPORTED = {
  'api-supported-versions': '2, 3',
  'api-deprecated-versions': '1',
  vary: 'api-version, accept',
};

/** A 200 from `/view` for `path` where the exchange holds `version` read from `source`. */
function served(
  version: string,
  source: string,
  path = '/view/x',
  extra: Expectation['headers'] = {},
): Expectation {
  return {
    status: 200,
    headers: {
      'x-api-version': `${version} ${source}`,
      ...REPORTED,
      deprecation: null,
      sunset: null,
      ...extra,
    },
    body: sees({ path }),
  };
}

function refused(status: number, code: string, detail: string): Expectation {
  return {
    status,
    problem: code,
    headers: { ...REPORTED, 'x-api-version': null },
    body: sees({ detail, supported: ['1', '2', '3'] }),
  };
}

export const versioningSuite: Suite = {
  name: 'versioning: sources, refusals and headers',
  app: {
    chain: (gw) => [
      gw.version({
        versions: [
          {
            version: '1',
            deprecation: '2026-01-01',
            sunset: '2099-12-31',
            links: {
              deprecation: 'https://docs.example.com/deprecations/v1',
              sunset: 'https://docs.example.com/sunset/v1',
            },
          },
          '2',
          '3',
        ],
        sources: [
          { from: 'path', strip: true },
          'header',
          { from: 'query', name: 'v' },
          { from: 'media-type', vendor: 'acme' },
        ],
        default: '3',
        neutral: ['/hello'],
      }),
      gw.use(versionProbe),
    ],
  },
  scenarios: [
    {
      name: 'path: /v2/view/x reaches the app as /view/x (query kept); the raw path stays as sent',
      request: get('/v2/view/x?a=1'),
      expect: {
        ...served('2', 'path'),
        body: sees({ path: '/view/x', rawPath: '/v2/view/x', query: { a: '1' } }),
      },
    },
    {
      name: 'path: the prefix is read in any case, and 2.0 is 2',
      request: get('/V2.0/view/x'),
      expect: served('2', 'path'),
    },
    {
      name: 'path: the stripped path is canonical for the router (encoded characters kept encoded)',
      request: get('/v3/view/a%20b/%C3%A9'),
      expect: { ...served('3', 'path', '/view/a b/é'), body: sees({ path: '/view/a b/é' }) },
    },
    {
      name: 'path: /v2 alone is the root of version 2',
      request: get('/v2'),
      expect: { status: 404, problem: 'GH_NOT_FOUND', headers: { 'x-api-version': '2 path' } },
    },
    {
      name: 'path: a segment that only starts with v is not a version (/vendors)',
      request: get('/vendors/1'),
      expect: { status: 404, problem: 'GH_NOT_FOUND', headers: { 'x-api-version': '3 default' } },
    },
    {
      name: 'header: api-version',
      request: get('/view/x', { 'api-version': '2' }),
      expect: served('2', 'header'),
    },
    {
      name: 'header: v2 is 2',
      request: get('/view/x', { 'api-version': 'v2' }),
      expect: served('2', 'header'),
    },
    {
      name: 'header: the same version twice is one version',
      request: get('/view/x', { 'api-version': ['2', '2.0'] }),
      expect: served('2', 'header'),
    },
    { name: 'query: ?v=2', request: get('/view/x?v=2'), expect: served('2', 'query') },
    {
      name: 'Accept: a vendor subtype',
      request: get('/view/x', { accept: 'application/vnd.acme.v2+json' }),
      expect: served('2', 'accept'),
    },
    {
      name: 'Accept: a version parameter',
      request: get('/view/x', { accept: 'application/vnd.acme+json; version=2' }),
      expect: served('2', 'accept'),
    },
    {
      name: 'Accept: negotiated by q-value, an unknown version passed over',
      request: get('/view/x', {
        accept:
          'application/vnd.acme.v9+json, application/vnd.acme.v2+json;q=0.5, application/vnd.acme.v3+json;q=0.9',
      }),
      expect: served('3', 'accept'),
    },
    {
      name: 'Accept: the newer of two versions the client weighs the same',
      request: get('/view/x', { accept: 'application/vnd.acme.v2+json, application/vnd.acme.v3+json' }),
      expect: served('3', 'accept'),
    },
    {
      name: 'Accept: agrees with the path when it accepts that version',
      request: get('/v2/view/x', {
        accept: 'application/vnd.acme.v3+json, application/vnd.acme.v2+json;q=0.1',
      }),
      expect: served('2', 'path'),
    },
    {
      name: 'Content-Type: a vendor subtype on a request body',
      request: {
        method: 'POST',
        path: '/view/x',
        headers: { 'content-type': 'application/vnd.acme.v2+json' },
        body: '{"a":1}',
      },
      expect: served('2', 'content-type'),
    },
    {
      name: 'no version: the default, with the headers',
      request: get('/view/x'),
      expect: served('3', 'default'),
    },
    {
      name: 'hostile Accept (no version in it): the default',
      request: get('/view/x', { accept: `${'"\\;,=vnd.acme.'.repeat(300)}*/*` }),
      expect: served('3', 'default'),
    },
    {
      name: 'a deprecated version: Deprecation (RFC 9745), Sunset (RFC 8594), Link',
      request: get('/view/x', { 'api-version': '1' }),
      expect: served('1', 'header', '/view/x', {
        deprecation: '@1767225600',
        sunset: 'Thu, 31 Dec 2099 00:00:00 GMT',
        link: V1_LINKS,
      }),
    },
    {
      name: 'neutral path: no version needed, no version headers',
      request: get('/hello', { 'api-version': 'nonsense' }),
      expect: {
        status: 200,
        headers: { 'api-supported-versions': null, vary: null, 'x-api-version': 'none' },
        body: { hello: 'world' },
      },
    },
    {
      name: 'unknown version in a header: 400',
      request: get('/view/x', { 'api-version': '9' }),
      expect: refused(400, 'GH_VERSION_UNSUPPORTED', 'Version 9 is not supported; supported: 1, 2, 3'),
    },
    {
      name: 'unknown version in the path: 400, nothing stripped',
      request: get('/v9/view/x'),
      expect: refused(400, 'GH_VERSION_UNSUPPORTED', 'Version 9 is not supported; supported: 1, 2, 3'),
    },
    {
      name: 'not a version at all: 400, the value shown safely',
      request: get('/view/x', { 'api-version': 'banana<script>' }),
      expect: refused(
        400,
        'GH_VERSION_UNSUPPORTED',
        "'banana<script>' is not an API version; supported: 1, 2, 3",
      ),
    },
    {
      name: 'unknown version in Accept: 406',
      request: get('/view/x', { accept: 'application/vnd.acme.v9+json' }),
      expect: refused(406, 'GH_VERSION_UNSUPPORTED', 'Version 9 is not supported; supported: 1, 2, 3'),
    },
    {
      name: 'unknown version in Content-Type: 415',
      request: {
        method: 'POST',
        path: '/view/x',
        headers: { 'content-type': 'application/vnd.acme.v9+json' },
        body: '{}',
      },
      expect: refused(415, 'GH_VERSION_UNSUPPORTED', 'Version 9 is not supported; supported: 1, 2, 3'),
    },
    {
      name: 'path and header disagree: 400 GH_VERSION_AMBIGUOUS',
      request: get('/v2/view/x', { 'api-version': '3' }),
      expect: refused(
        400,
        'GH_VERSION_AMBIGUOUS',
        "The path names version '2' and the api-version header names '3'",
      ),
    },
    {
      name: 'one header sent twice with two versions: ambiguous',
      request: get('/view/x', { 'api-version': ['2', '3'] }),
      expect: refused(
        400,
        'GH_VERSION_AMBIGUOUS',
        "The api-version header names version '2' and the api-version header names '3'",
      ),
    },
    {
      name: 'Accept does not accept the version the query names: ambiguous',
      request: get('/view/x?v=2', { accept: 'application/vnd.acme.v3+json' }),
      expect: refused(
        400,
        'GH_VERSION_AMBIGUOUS',
        "The v query parameter names version '2' and Accept names '3'",
      ),
    },
  ],
};

export const requiredSuite: Suite = {
  name: 'versioning: required versions and retired ones',
  app: {
    chain: (gw) => [
      gw.version({
        versions: [
          {
            version: '2025-01-15',
            deprecation: '2025-06-01',
            sunset: '2025-12-31',
            links: { sunset: 'https://docs.example.com/sunset' },
          },
          '2026-01-15',
        ],
        sources: ['header'],
        required: true,
        afterSunset: 'refuse',
        neutral: ['/hello'],
      }),
      gw.use(versionProbe),
    ],
  },
  scenarios: [
    {
      name: 'no version: 400 GH_VERSION_UNSPECIFIED',
      request: get('/view/x'),
      expect: {
        status: 400,
        problem: 'GH_VERSION_UNSPECIFIED',
        headers: { 'api-supported-versions': '2026-01-15', vary: 'api-version' },
        body: sees({
          detail: 'This API needs a version, given in the api-version header; supported: 2026-01-15',
          supported: ['2026-01-15'],
        }),
      },
    },
    {
      name: 'a date version',
      request: get('/view/x', { 'api-version': '2026-01-15' }),
      expect: { status: 200, headers: { 'x-api-version': '2026-01-15 header' } },
    },
    {
      name: 'a version past its sunset: 410 GH_VERSION_SUNSET with Sunset and Link',
      request: get('/view/x', { 'api-version': '2025-01-15' }),
      expect: {
        status: 410,
        problem: 'GH_VERSION_SUNSET',
        headers: {
          sunset: 'Wed, 31 Dec 2025 00:00:00 GMT',
          link: '<https://docs.example.com/sunset>; rel="sunset"',
          'api-supported-versions': '2026-01-15',
          'api-deprecated-versions': null,
        },
        body: sees({ detail: 'Version 2025-01-15 was retired on Wed, 31 Dec 2025 00:00:00 GMT' }),
      },
    },
    {
      name: 'a date that is not a calendar date: 400 GH_VERSION_UNSUPPORTED',
      request: get('/view/x', { 'api-version': '2026-02-30' }),
      expect: { status: 400, problem: 'GH_VERSION_UNSUPPORTED' },
    },
  ],
};

/** A handler written for one version, as a Gatehouse middleware that answers (the same on every framework). */
const answer = (name: string): Middleware => ({
  name: `handler-${name}`,
  onRequest: (exchange) => ({
    status: 200,
    body: { handler: name, version: exchange.stateIfSet?.apiVersion?.text ?? null },
  }),
});

/** A handler that only tags the response and passes the request on to the next one. */
const tagAndPass = (name: string): Middleware => ({
  name: `tag-${name}`,
  onRequest: (exchange) => {
    exchange.setHeader('x-handler', name);
  },
});

export const routeSuite: Suite = {
  name: 'versioning: per-version handlers (gw.version.route)',
  app: {
    chain: (gw) => [gw.version({ versions: ['1', '2', '3', '4'], sources: ['header'], neutral: ['/hello'] })],
    guards: <M>(gw: FrameworkGateway<M>) => ({
      orders: [
        gw.version.route({
          '1': gw.use(answer('v1')),
          '2+': gw.use(answer('v2+')),
          '4': gw.use(tagAndPass('v4')),
        }),
      ],
      optional: [gw.version.route({ '3': gw.use(answer('v3')) }, { otherwise: 'next' })],
    }),
  },
  scenarios: [
    {
      name: 'version 1 runs the v1 handler',
      request: get('/guarded/orders', { 'api-version': '1' }),
      expect: { status: 200, body: { handler: 'v1', version: '1' } },
    },
    {
      name: 'versions 2 and 3 run the 2+ handler',
      request: get('/guarded/orders', { 'api-version': '3' }),
      expect: { status: 200, body: { handler: 'v2+', version: '3' } },
    },
    {
      name: 'an exact key beats a baseline; its handler may pass the request on (next)',
      request: get('/guarded/orders', { 'api-version': '4' }),
      expect: { status: 200, headers: { 'x-handler': 'v4' }, body: sees({ path: '/guarded/orders' }) },
    },
    {
      name: 'no version on a route that needs one: 400 GH_VERSION_UNSPECIFIED',
      request: get('/guarded/orders'),
      expect: {
        status: 400,
        problem: 'GH_VERSION_UNSPECIFIED',
        body: sees({ detail: 'This route needs an API version; it serves 1, 2, 3, 4' }),
      },
    },
    {
      name: "otherwise: 'next': a version the table has no handler for goes on to the route's own handler",
      request: get('/guarded/optional', { 'api-version': '1' }),
      expect: { status: 200, headers: { 'x-handler': null }, body: sees({ path: '/guarded/optional' }) },
    },
    {
      name: "otherwise: 'next': the version it has runs its handler",
      request: get('/guarded/optional', { 'api-version': '3' }),
      expect: { status: 200, body: { handler: 'v3', version: '3' } },
    },
  ],
};

/** A table that serves only version 2: what a route refuses when the API has the version and it does not. */
export const routeRefusalSuite: Suite = {
  name: 'versioning: a per-version table without the version asked',
  app: {
    chain: (gw) => [
      gw.version({
        versions: ['1', '2'],
        sources: ['header', { from: 'media-type', vendor: 'acme' }],
        neutral: ['/hello'],
      }),
    ],
    guards: <M>(gw: FrameworkGateway<M>) => ({ v2only: [gw.version.route({ '2': gw.use(answer('v2')) })] }),
  },
  scenarios: [
    {
      name: 'from a header: 400 GH_VERSION_UNSUPPORTED listing what the route serves',
      request: get('/guarded/v2only', { 'api-version': '1' }),
      expect: {
        status: 400,
        problem: 'GH_VERSION_UNSUPPORTED',
        body: sees({ detail: 'Version 1 is not served here; this route serves 2', supported: ['2'] }),
      },
    },
    {
      name: 'from Accept: 406',
      request: get('/guarded/v2only', { accept: 'application/vnd.acme.v1+json' }),
      expect: { status: 406, problem: 'GH_VERSION_UNSUPPORTED' },
    },
  ],
};

/** A version read by the application's own function (here from a cookie), combined with a header. */
export const functionSourceSuite: Suite = {
  name: 'versioning: a function as a source',
  app: {
    chain: (gw) => [
      gw.version({
        versions: ['2026-01-15', '2026-06-01'],
        sources: [
          (exchange) => /(?:^|;\s*)api_version=([^;]+)/.exec(exchange.header('cookie') ?? '')?.[1],
          'header',
        ],
        default: 'latest',
      }),
      gw.use(versionProbe),
    ],
  },
  scenarios: [
    {
      name: 'the function names the version',
      request: get('/view/x', { cookie: 'theme=dark; api_version=2026-01-15' }),
      expect: { status: 200, headers: { 'x-api-version': '2026-01-15 custom', vary: 'api-version' } },
    },
    {
      name: 'the function and a header agree',
      request: get('/view/x', { cookie: 'api_version=2026-06-01', 'api-version': '2026-06-01' }),
      expect: { status: 200, headers: { 'x-api-version': '2026-06-01 custom' } },
    },
    {
      name: 'the function and a header disagree: ambiguous',
      request: get('/view/x', { cookie: 'api_version=2026-06-01', 'api-version': '2026-01-15' }),
      expect: {
        status: 400,
        problem: 'GH_VERSION_AMBIGUOUS',
        body: sees({
          detail:
            "The custom source names version '2026-06-01' and the api-version header names '2026-01-15'",
        }),
      },
    },
    {
      name: "nothing named: 'latest'",
      request: get('/view/x'),
      expect: { status: 200, headers: { 'x-api-version': '2026-06-01 default' } },
    },
  ],
};

export const versioningSuites: Suite[] = [
  versioningSuite,
  requiredSuite,
  functionSourceSuite,
  routeSuite,
  routeRefusalSuite,
];

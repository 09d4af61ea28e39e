// The phase model on both frameworks: order of onResponse, sync and async answers, streaming, failures.
import type { Suite } from '../support/conformance.js';
import {
  asyncProbe,
  brokenHookProbe,
  routeProbe,
  scopeProbe,
  streamProbe,
  syncProbe,
} from '../support/probes.js';

export const phaseSuite: Suite = {
  name: 'middleware phases',
  app: {
    chain: (gw) => [
      gw.requestId(),
      gw.use(syncProbe),
      gw.use(asyncProbe),
      gw.use(streamProbe, brokenHookProbe),
    ],
  },
  scenarios: [
    {
      name: 'onResponse runs in reverse order of entry before the app answer goes out',
      request: { path: '/hello' },
      expect: { status: 200, headers: { 'x-phases': 'async,sync' }, body: { hello: 'world' } },
    },
    {
      name: 'a synchronous answer stops the chain; its own onResponse still runs',
      request: { path: '/probe/sync' },
      expect: { status: 201, headers: { 'x-phases': 'sync', 'x-answered-by': 'sync' }, body: { sync: true } },
    },
    {
      name: 'an asynchronous text answer',
      request: { path: '/probe/async' },
      expect: {
        status: 200,
        headers: {
          'x-phases': 'async,sync',
          'content-type': 'text/plain; charset=utf-8',
          'content-length': '17',
        },
      },
    },
    {
      name: 'a byte answer',
      request: { path: '/probe/bytes' },
      expect: { status: 200, headers: { 'content-type': 'application/octet-stream', 'content-length': '3' } },
    },
    {
      name: 'a rejected promise with a GatehouseError renders that problem',
      request: { path: '/probe/reject' },
      expect: { status: 409, problem: 'GH_TEST_REJECTED', headers: { 'x-phases': 'async,sync' } },
    },
    {
      name: 'a synchronous throw of a plain Error is a 500 that reveals nothing',
      request: { path: '/probe/throw-sync' },
      expect: { status: 500, problem: 'GH_INTERNAL', absent: ['abc123', 'sync failure'] },
    },
    {
      name: 'a middleware that writes the response itself (HANDLED) streams it unchanged',
      request: { path: '/probe/stream' },
      expect: {
        status: 200,
        headers: { 'transfer-encoding': 'chunked', 'x-phases': 'async,sync' },
        body: (_json: unknown, res: { body: Buffer }) => {
          if (res.body.toString() !== 'chunk-1;chunk-2') throw new Error(`body was ${res.body.toString()}`);
        },
      },
    },
    {
      name: 'a throwing onResponse hook does not break the response',
      request: { path: '/probe/broken-hook' },
      expect: { status: 404, problem: 'GH_NOT_FOUND' },
    },
  ],
};

/** The same probes composed into ONE middleware: a refused path still gets its request id. */
export const composedSuite: Suite = {
  name: 'composed middleware',
  app: { chain: (gw) => [gw.use(gw.core.requestId(), syncProbe, asyncProbe)] },
  scenarios: [
    {
      name: 'members run in order inside one mounted middleware',
      request: { path: '/probe/async' },
      expect: { status: 200, headers: { 'x-phases': 'async,sync', 'x-request-id': /^[0-9a-f-]{36}$/ } },
    },
    {
      name: 'a refused path still runs the alwaysRun member (request id) and skips the others',
      request: { path: '/probe/%2e%2e%2fsync' },
      expect: {
        status: 400,
        problem: 'GH_PATH_ENCODED_SLASH',
        headers: { 'x-request-id': /^[0-9a-f-]{36}$/ },
      },
    },
  ],
};

/** What capabilities read from the framework and from each other through the exchange. */
export const exchangeSuite: Suite = {
  name: 'exchange: matched route, scopes, problem codes',
  app: { chain: (gw) => [gw.requestId(), gw.use(routeProbe), gw.use(scopeProbe)] },
  scenarios: [
    {
      name: "the router's route template (not the raw path) is visible to middleware",
      request: { path: '/view/some/deep/path' },
      expect: { status: 200, headers: { 'x-matched-route': '/view{/*rest}' } },
    },
    {
      name: 'a scope entered by a middleware is active in the handler',
      request: { path: '/view' },
      expect: {
        status: 200,
        body: (body: unknown) => {
          if ((body as { scope: unknown }).scope !== 'scoped GET')
            throw new Error(`scope was ${JSON.stringify(body)}`);
        },
      },
    },
    {
      name: 'an async handler still runs inside the scope',
      request: { path: '/slow?ms=5' },
      expect: { status: 200, headers: { 'x-matched-route': '/slow' } },
    },
    {
      name: 'nothing matched: no template, and the problem code is known to middleware',
      request: { path: '/nowhere' },
      expect: { status: 404, headers: { 'x-matched-route': '-', 'x-problem-code': 'GH_NOT_FOUND' } },
    },
    {
      name: 'a handler error: its route template and problem code',
      request: { path: '/throw/http' },
      expect: {
        status: 422,
        headers: { 'x-matched-route': '/throw/http', 'x-problem-code': 'GH_APP_ERROR' },
      },
    },
  ],
};

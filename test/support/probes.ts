// Neutral test middleware, written once and mounted on both frameworks, that exercise each phase.
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { GatehouseError, HANDLED, type Middleware } from '@gatehousejs/core';

const appendPhase =
  (name: string): Middleware['onResponse'] =>
  (ex) => {
    const prior = ex.res.getHeader('x-phases');
    ex.setHeader('x-phases', prior ? `${prior},${name}` : name);
  };

/** Synchronous: tags its response; answers /probe/sync itself. */
export const syncProbe: Middleware = {
  name: 'syncProbe',
  onRequest(ex) {
    if (ex.path === '/probe/sync')
      return { status: 201, headers: { 'x-answered-by': 'sync' }, body: { sync: true } };
    if (ex.path === '/probe/throw-sync') throw new Error('sync failure with secret token abc123');
    return undefined;
  },
  onResponse: appendPhase('sync'),
};

/** Asynchronous: answers /probe/async after a tick, rejects for /probe/reject. */
export const asyncProbe: Middleware = {
  name: 'asyncProbe',
  async onRequest(ex) {
    await sleep(1);
    if (ex.path === '/probe/async') return { status: 200, body: 'plain text answer' };
    if (ex.path === '/probe/reject') {
      throw new GatehouseError(
        { code: 'GH_TEST_REJECTED', status: 409, title: 'Rejected by probe', expose: true },
        'no',
      );
    }
    if (ex.path === '/probe/bytes') return { status: 200, body: new Uint8Array([1, 2, 3]) };
    return undefined;
  },
  onResponse: appendPhase('async'),
};

/** Writes the response itself (as a proxy would) and returns HANDLED. */
export const streamProbe: Middleware = {
  name: 'streamProbe',
  onRequest(ex) {
    if (ex.path !== '/probe/stream') return undefined;
    ex.res.statusCode = 200;
    ex.res.setHeader('content-type', 'text/plain; charset=utf-8');
    ex.res.write('chunk-1;');
    setTimeout(() => ex.res.end('chunk-2'), 5);
    return HANDLED;
  },
};

/** An onResponse hook that throws: the response must still go out, and the error be reported. */
export const brokenHookProbe: Middleware = {
  name: 'brokenHookProbe',
  onResponse(ex) {
    if (ex.path === '/probe/broken-hook') throw new Error('hook exploded');
  },
};

/** A store the scope probe enters for the rest of the request; the /view route reports it. */
export const testScope = new AsyncLocalStorage<string>();

/** Runs the rest of the request inside an AsyncLocalStorage store, as tracing does with OTel context. */
export const scopeProbe: Middleware = {
  name: 'scopeProbe',
  onRequest(ex) {
    ex.enterScope((fn, exchange) => testScope.run(`scoped ${exchange.method}`, fn));
    return undefined;
  },
};

/** Reports the framework's matched route template and the problem code in response headers. */
export const routeProbe: Middleware = {
  name: 'routeProbe',
  onResponse(ex) {
    ex.setHeader('x-matched-route', ex.matchedRoute ?? '-');
    if (ex.problemCode) ex.setHeader('x-problem-code', ex.problemCode);
  },
};

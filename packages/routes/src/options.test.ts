import type { Client } from '@gatehousejs/client';
import { ConfigError, Gateway } from '@gatehousejs/core';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { Routes, type RoutesContext } from './controller.js';
import { routeTableSchema } from './options.js';

const context: RoutesContext = {
  core: new Gateway({}),
  // Routes asks for a route's client when the table is applied; nothing here sends a request.
  clientFor: () => ({}) as Client,
  services: new Set(['orders']),
  upgradeGuards: () => [],
};

/** The problems of the one ConfigError `make` throws, as `path: message` lines. */
function problemsOf(make: () => unknown): string[] {
  let thrown: unknown;
  try {
    make();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return (thrown as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
}

describe('gw.routes() options', () => {
  it('says what a table is when it is something else', () => {
    expect(problemsOf(() => new Routes({ table: 'routes.yaml' } as never, context))).toEqual([
      "routes.table: expected an array of routes or { routes: [...] }, received the string 'routes.yaml'",
    ]);
  });

  it('reports unknown keys and wrong types at every depth in one ConfigError', () => {
    expect(
      problemsOf(
        () =>
          new Routes(
            {
              tabel: [{ path: '/a' }],
              file: 'routes.yaml',
              etcd: { hosts: 'http://127.0.0.1:2379', key: '/r', dialTimeout: 5 },
              override: { header: 'x route', scopes: 'admin', allow: true },
              gateIntervalMs: '1s',
            } as never,
            context,
          ),
      ),
    ).toEqual([
      "routes: give at most one of 'table', 'file', 'etcd' and 'source' (got 'file' and 'etcd')",
      "routes.tabel: unknown option; did you mean 'table'?",
      "routes.etcd.dialTimeout: unknown option; did you mean 'dialTimeoutMs'?",
      'routes.override.header: is not a valid header name',
      "routes.override.scopes: expected an array, received the string 'admin'",
      'routes.override.allow: expected a function of the exchange, received true',
      "routes.gateIntervalMs: expected an integer, received the string '1s'",
    ]);
  });

  it('names problems after the controller, and checks a table given in code in the same way', () => {
    expect(problemsOf(() => new Routes({ name: 'edge', watch: { intervalMs: 0 } }, context))).toEqual([
      "edge.watch: has no effect without 'file'",
      'edge.watch.intervalMs: expected a number > 0, received the number 0',
    ]);
    expect(
      problemsOf(
        () =>
          new Routes({ table: [{ path: '/orders/', service: 'ordrs', mode: 'shadw' }] } as never, context),
      ),
    ).toEqual([
      "routes[0].path: must not end with '/': a normalized path never does, so it would never match — did you mean '/orders' (that path) or '/orders/*' (it and everything below)?",
      "routes[0].mode: expected one of 'local', 'shadow', 'split', 'fallback' or 'remote', received the string 'shadw' — did you mean 'shadow'?",
      'routes[0].service: unknown service "ordrs"; did you mean \'orders\'?; known: orders',
    ]);
  });

  it('suggests the mode and the route setMode() was given', () => {
    const routes = new Routes(
      { table: [{ name: 'orders', path: '/orders/*', service: 'orders', mode: 'local' }] },
      context,
    );
    expect(() => routes.setMode('order', 'shadow')).toThrow(
      "setMode(): no route named 'order' — did you mean 'orders'?",
    );
    expect(() => routes.setMode('orders', 'shadw' as never)).toThrow(
      "setMode(): mode must be one of local, shadow, split, fallback, remote — did you mean 'shadow'?",
    );
  });

  it('exports the table document as a schema (the file format)', () => {
    expect(v.safeParse(routeTableSchema, { routes: [{ path: '/a', mode: 'local' }] }).success).toBe(true);
    expect(v.safeParse(routeTableSchema, { routes: [{ path: '/a', mood: 'local' }] }).success).toBe(false);
  });
});

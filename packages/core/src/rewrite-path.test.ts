// Exchange.rewritePath: the path later decisions see and the target the router dispatches on change
// together (versioning's strip goes through it), or not at all.
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, test } from 'vitest';
import { ensureExchange, type FrameworkInfo } from './exchange.js';
import { Gateway } from './gateway.js';

const gateway = new Gateway({});

function exchangeFor(url: string, framework?: FrameworkInfo) {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = url;
  return ensureExchange(req, new ServerResponse(req), gateway, framework);
}

describe('Exchange.rewritePath', () => {
  test('moves the path and req.url together, keeping the query and the raw path', () => {
    const exchange = exchangeFor('/v2/orders/7?expand=lines&x=%20');
    expect(exchange.rewritePath('/orders/7')).toBe(true);
    expect(exchange.path).toBe('/orders/7');
    expect(exchange.req.url).toBe('/orders/7?expand=lines&x=%20');
    expect(exchange.rawPath).toBe('/v2/orders/7');
    expect(exchange.query.get('expand')).toBe('lines');
  });

  test('the router gets the canonical spelling of the new path', () => {
    const exchange = exchangeFor('/v2/a%20b/%C3%A9');
    expect(exchange.path).toBe('/v2/a b/é');
    expect(exchange.rewritePath('/a b/é')).toBe(true);
    expect(exchange.req.url).toBe('/a%20b/%C3%A9');
    const root = exchangeFor('/v2');
    expect(root.rewritePath('/')).toBe(true);
    expect(root.req.url).toBe('/');
  });

  test.each(['/a/../b', '/a//b', 'orders', '/a/'])('%j is not a normalized path: TypeError', (path) => {
    const exchange = exchangeFor('/x');
    expect(() => exchange.rewritePath(path)).toThrow(TypeError);
    expect([exchange.path, exchange.req.url]).toEqual(['/x', '/x']);
  });

  test('changes nothing once a router has matched (a mounted router, a route)', () => {
    const routed: FrameworkInfo = { name: 'test', matchedRoute: () => undefined, routed: () => true };
    const exchange = exchangeFor('/v2/orders', routed);
    expect(exchange.rewritePath('/orders')).toBe(false);
    expect([exchange.path, exchange.req.url]).toEqual(['/v2/orders', '/v2/orders']);
  });

  test('changes nothing on a request refused at the edge', () => {
    const exchange = exchangeFor('/a%2Fb');
    expect(exchange.rejection).toBeDefined();
    expect(exchange.rewritePath('/b')).toBe(false);
    expect(exchange.req.url).toBe('/a%2Fb');
  });
});

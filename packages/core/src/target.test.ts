import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { parse as legacyParse } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGatehouseError } from './errors.js';
import { Exchange, type FrameworkInfo } from './exchange.js';
import { Gateway } from './gateway.js';
import { DEFAULT_PATH_POLICY, normalizePath, type PathPolicy } from './path.js';
import { canonicalPath, canonicalTarget } from './target.js';

const policy = (overrides: Partial<PathPolicy> = {}): PathPolicy => ({
  ...DEFAULT_PATH_POLICY,
  ...overrides,
});

const POLICIES: PathPolicy[] = [
  policy(),
  policy({ encodedSlashes: 'keep', pathParams: 'keep', trailingSlash: 'keep', mergeSlashes: false }),
  policy({ encodedSlashes: 'decode', pathParams: 'reject' }),
  policy({ encodedSlashes: 'keep', pathParams: 'strip' }),
];

// Pieces of request paths: every spelling trick the normalizer and the routers disagree on.
const piece = fc.constantFrom(
  '/',
  '//',
  '.',
  '..',
  '%2e',
  '%2E',
  '%2e%2E',
  'admin',
  'ADMIN',
  '%61dmin',
  '%41',
  ';',
  ';x=1',
  '%3B',
  '%3b',
  '#',
  '%23',
  '?',
  '%3F',
  '%3f',
  '%25',
  '%',
  '%2f',
  '%2F',
  '%5c',
  '\\',
  ' ',
  '%20',
  "'",
  '%27',
  '"',
  '|',
  '[',
  '~',
  '%7E',
  '*',
  '(',
  ':',
  '@',
  'é',
  '%C3%A9',
  '%c3%a9',
  '%C5%BF',
  '%E2%84%AA',
  '%C4%B1',
  '%EF%BD%81',
  '\u00a0',
  '%C2%A0',
  '\ufeff',
  '%EF%BB%BF',
  '😀',
  '%F0%9F%98%80',
  '%C0%AE',
  '%00',
  'a',
  'b1',
);
const rawPath = fc.array(piece, { minLength: 0, maxLength: 12 }).map((parts) => `/${parts.join('')}`);
const query = fc
  .array(fc.constantFrom('a=1', '&', '#', '#x', '?', '\u00a0', ' ', "'", '%20', 'b'), { maxLength: 5 })
  .map((parts) => parts.join(''));

/** normalizePath's result, or undefined when it refuses the path. */
function normalized(raw: string, pol: PathPolicy): string | undefined {
  try {
    return normalizePath(raw, pol);
  } catch (error) {
    if (isGatehouseError(error) && error.status === 400) return undefined;
    throw error;
  }
}

describe('canonicalPath', () => {
  it.each([
    ['/', '/'],
    ['/api/v1/orders/42', '/api/v1/orders/42'],
    ['/a:b@c!$&()*+,=~-._', '/a:b@c!$&()*+,=~-._'],
    ['/été', '/%C3%A9t%C3%A9'],
    ['/a b', '/a%20b'],
    ['/a#b?c', '/a%23b%3Fc'],
    ['/100%', '/100%25'],
    ["/o'brien", '/o%27brien'],
    ['/a;b', '/a%3Bb'],
    ['/[x]|^`{}"<>\\', '/%5Bx%5D%7C%5E%60%7B%7D%22%3C%3E%5C'],
    ['/😀', '/%F0%9F%98%80'],
    ['/\u00a0\ufeff', '/%C2%A0%EF%BB%BF'],
  ])('%j → %j', (input, expected) => {
    expect(canonicalPath(input, policy())).toBe(expected);
  });

  it('keeps what the policy keeps in the normalized path', () => {
    expect(canonicalPath('/a%2Fb%25', policy({ encodedSlashes: 'keep' }))).toBe('/a%2Fb%25');
    expect(canonicalPath('/a;v=1', policy({ pathParams: 'keep' }))).toBe('/a;v=1');
    expect(canonicalPath('/a;v=1', policy({ pathParams: 'reject' }))).toBe('/a%3Bv=1');
  });

  it('returns the same string when nothing needs encoding', () => {
    const path = `/orders/${'x'.repeat(40)}`;
    expect(canonicalPath(path, policy())).toBe(path);
  });

  it('is a spelling of the same path under every policy, and stays canonical', () => {
    for (const pol of POLICIES) {
      fc.assert(
        fc.property(rawPath, (raw) => {
          const path = normalized(raw, pol);
          if (path === undefined) return;
          const canonical = canonicalPath(path, pol);
          expect(normalizePath(canonical, pol)).toBe(path);
          expect(canonicalTarget(canonical, path, pol)).toBeUndefined();
          expect(canonical).toMatch(/^\/[A-Za-z0-9\-._~!$&()*+,=:@/%;]*$/);
        }),
        { seed: 0x15c0de, numRuns: 3_000 },
      );
    }
  });

  it("is what Node's legacy URL parser (Express's and Koa's fallback) reads, whatever the query", () => {
    // parseurl hands a target with '#', whitespace, U+00A0 or U+FEFF to url.parse, which trims,
    // escapes and cuts fragments: none of that may touch a canonical path.
    fc.assert(
      fc.property(rawPath, query, (raw, q) => {
        const path = normalized(raw, DEFAULT_PATH_POLICY);
        if (path === undefined) return;
        const canonical = canonicalPath(path, DEFAULT_PATH_POLICY);
        expect(legacyParse(`${canonical}?${q}`).pathname).toBe(canonical);
        expect(legacyParse(`${canonical}#${q}`).pathname).toBe(canonical);
      }),
      { seed: 0x15c0df, numRuns: 3_000 },
    );
  });
});

describe('canonicalTarget', () => {
  const check = (raw: string, pol = policy()) => canonicalTarget(raw, normalizePath(raw, pol), pol);

  it('lets canonical paths through, with one trailing slash when slashes are stripped', () => {
    for (const raw of ['/', '/admin', '/admin/', '/a/b/c/', '/%C3%A9t%C3%A9', '/%C3%A9/', '/a%20b']) {
      expect(check(raw), raw).toBeUndefined();
    }
  });

  it.each([
    ['/admin//', '/admin'],
    ['//', '/'],
    ['//admin', '/admin'],
    ['/a/../admin', '/admin'],
    ['/%2e%2e/admin', '/admin'],
    ['/%61dmin', '/admin'],
    ['/%41DMIN', '/ADMIN'],
    ['/admin;x=1', '/admin'],
    ['/%c3%a9', '/%C3%A9'],
    ["/o'brien", '/o%27brien'],
    ['/a b', '/a%20b'],
    ['/a|b', '/a%7Cb'],
    ['/%7Euser', '/~user'],
    ['/admin/.', '/admin'],
  ])('%j must be dispatched as %j', (raw, canonical) => {
    expect(check(raw)).toBe(canonical);
  });

  it('treats a trailing slash as significant when the policy keeps it', () => {
    const keep = policy({ trailingSlash: 'keep' });
    expect(check('/admin/', keep)).toBeUndefined();
    expect(check('/admin//', keep)).toBe('/admin/');
  });

  it('accepts a raw path only when it is the canonical one (or that plus one slash)', () => {
    for (const pol of POLICIES) {
      fc.assert(
        fc.property(rawPath, (raw) => {
          const path = normalized(raw, pol);
          if (path === undefined) return;
          const canonical = canonicalPath(path, pol);
          const verdict = canonicalTarget(raw, path, pol);
          if (verdict === undefined) {
            const trailing = pol.trailingSlash === 'strip' && canonical !== '/' ? `${canonical}/` : canonical;
            expect([canonical, trailing]).toContain(raw);
          } else {
            expect(verdict).toBe(canonical);
          }
        }),
        { seed: 0x15c0e0, numRuns: 3_000 },
      );
    }
  });
});

describe('the exchange dispatches on the path it decides on', () => {
  const make = (
    url: string,
    config: ConstructorParameters<typeof Gateway>[0] = {},
    framework?: FrameworkInfo,
  ) => {
    const req = new IncomingMessage(new Socket());
    req.url = url;
    req.method = 'GET';
    const res = new ServerResponse(req);
    const exchange = new Exchange(req, res, new Gateway(config), framework);
    return { req, exchange };
  };
  const codeOf = (exchange: Exchange) =>
    isGatehouseError(exchange.rejection) ? exchange.rejection.code : exchange.rejection;

  it('leaves a canonical target alone, query included', () => {
    const { req, exchange } = make('/orders/42?x=%2e&y=#');
    expect(codeOf(exchange)).toBe('GH_PATH_FRAGMENT');
    const ok = make('/orders/42/?x=%2e%2e&y=/../');
    expect(ok.exchange.rejection).toBeUndefined();
    expect(ok.req.url).toBe('/orders/42/?x=%2e%2e&y=/../');
    expect(ok.exchange.path).toBe('/orders/42');
    expect(req.url).toBe('/orders/42?x=%2e&y=#');
  });

  it('rewrites req.url to the canonical target before any router sees it, and keeps the raw path', () => {
    const { req, exchange } = make('/public/..//%61dmin;x=1/%c3%a9?q=/../a#');
    expect(codeOf(exchange)).toBe('GH_PATH_FRAGMENT');
    const ok = make('/public/..//%61dmin;x=1/%c3%a9?q=/../a');
    expect(ok.exchange.rejection).toBeUndefined();
    expect(ok.exchange.path).toBe('/admin/é');
    expect(ok.req.url).toBe('/admin/%C3%A9?q=/../a');
    expect(ok.exchange.rawPath).toBe('/public/..//%61dmin;x=1/%c3%a9');
    expect(req.url).toBe('/public/..//%61dmin;x=1/%c3%a9?q=/../a#');
  });

  it('refuses a fragment anywhere in the target (RFC 9112 §3.2)', () => {
    for (const url of ['/admin#x', '/admin#', '/admin?x#y', '/#']) {
      const { req, exchange } = make(url);
      expect(codeOf(exchange), url).toBe('GH_PATH_FRAGMENT');
      expect(req.url).toBe(url);
      expect(exchange.path).toBe('/');
    }
  });

  it("refuses instead of rewriting with paths.nonCanonical: 'reject'", () => {
    const { req, exchange } = make('/a/../admin', { paths: { nonCanonical: 'reject' } });
    expect(codeOf(exchange)).toBe('GH_PATH_NOT_CANONICAL');
    expect(req.url).toBe('/a/../admin');
    expect(make('/admin/', { paths: { nonCanonical: 'reject' } }).exchange.rejection).toBeUndefined();
  });

  it('decides on the whole target inside a mounted router, and refuses what it can no longer rewrite', () => {
    // Express inside app.use('/api', router): req.url lost '/api', req.baseUrl holds it.
    const mounted = (baseUrl: string): FrameworkInfo => ({
      name: 'mounted',
      matchedRoute: () => undefined,
      target: (exchange) => baseUrl + (exchange.req.url ?? '/'),
      routed: () => true,
    });
    const ok = make('/orders/7?x=1', {}, mounted('/api'));
    expect(ok.exchange.rejection).toBeUndefined();
    expect(ok.exchange.path).toBe('/api/orders/7');
    expect(ok.exchange.rawPath).toBe('/api/orders/7');
    expect(ok.exchange.query.get('x')).toBe('1');
    expect(ok.req.url).toBe('/orders/7?x=1');

    const trailing = make('/orders/', {}, mounted('/api'));
    expect(trailing.exchange.rejection).toBeUndefined();
    expect(trailing.exchange.path).toBe('/api/orders');

    const tricked = make('/../admin', {}, mounted('/api'));
    expect(codeOf(tricked.exchange)).toBe('GH_PATH_NOT_CANONICAL');
    expect(tricked.req.url).toBe('/../admin');

    // A framework that has matched a route already, with req.url whole.
    const routed = make('/%61dmin', {}, { name: 'r', matchedRoute: () => '/:x', routed: () => true });
    expect(codeOf(routed.exchange)).toBe('GH_PATH_NOT_CANONICAL');
    expect(routed.req.url).toBe('/%61dmin');
  });

  it('still refuses what cannot be normalized, before looking at the form', () => {
    expect(codeOf(make('/a%2Fb').exchange)).toBe('GH_PATH_ENCODED_SLASH');
    expect(codeOf(make('/a%zz').exchange)).toBe('GH_PATH_INVALID_ENCODING');
    expect(codeOf(make('http://evil/admin').exchange)).toBe('GH_PATH_INVALID');
    expect(codeOf(make('/%C5%BFecret').exchange)).toBe('GH_PATH_INVALID');
  });
});

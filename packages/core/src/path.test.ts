import { describe, expect, it } from 'vitest';
import { isGatehouseError } from './errors.js';
import { createPathMatcher, DEFAULT_PATH_POLICY, normalizePath, type PathPolicy } from './path.js';

const policy = (overrides: Partial<PathPolicy>): PathPolicy => ({ ...DEFAULT_PATH_POLICY, ...overrides });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isGatehouseError(error)) {
      expect(error.status).toBe(400);
      return error.code;
    }
    throw error;
  }
  return 'no error';
}

describe('normalizePath with the default policy', () => {
  const cases: [string, string][] = [
    ['/', '/'],
    ['/api/v1/orders/42', '/api/v1/orders/42'],
    ['/files/report.json', '/files/report.json'],
    ['/a/.../b', '/a/.../b'],
    ['/.well-known/x', '/.well-known/x'],
    ['/a/./b', '/a/b'],
    ['/./', '/'],
    ['/.', '/'],
    ['/..', '/'],
    ['/../', '/'],
    ['/a/..', '/'],
    ['/a/b/..', '/a'],
    ['/a/b/../../..', '/'],
    ['/a/b/../../../c', '/c'],
    ['/a/b/c/./../../g', '/a/g'],
    ['/%2e%2e/admin', '/admin'],
    ['/%2E%2e/admin', '/admin'],
    ['/x/%2e%2E/admin', '/admin'],
    ['/x/.%2e/admin', '/admin'],
    ['/x/%2e/admin', '/x/admin'],
    ['/%61dmin', '/admin'],
    ['//admin', '/admin'],
    ['///admin//users///', '/admin/users'],
    ['/a//../b', '/b'],
    ['/admin/', '/admin'],
    ['/admin;jsessionid=1', '/admin'],
    ['/admin;x=1/users', '/admin/users'],
    ['/a;b/../c', '/c'],
    ['/a/..;x/admin', '/admin'],
    ['/a/%2e%2e;x/admin', '/admin'],
    ['/a%3Bb', '/a;b'],
    ['/%C3%A9t%C3%A9', '/été'],
    ['/%c3%a9t%c3%a9', '/été'],
    ['/été', '/été'],
    ['/%F0%9F%98%80', '/😀'],
    ['/😀', '/😀'],
    ['/a%20b', '/a b'],
    ['/100%25', '/100%'],
    ['/a%3Fb%23c', '/a?b#c'],
    ['/Admin/Users', '/Admin/Users'],
    ["/a:b@c!$&'()*+,=", "/a:b@c!$&'()*+,="],
  ];
  it.each(cases)('%j → %j', (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
  });

  const rejected: [string, string][] = [
    ['', 'GH_PATH_INVALID'],
    ['*', 'GH_PATH_INVALID'],
    ['http://evil/x', 'GH_PATH_INVALID'],
    ['admin', 'GH_PATH_INVALID'],
    ['/a%0Ab', 'GH_PATH_INVALID'],
    ['/a%0d%0aSet-Cookie:x', 'GH_PATH_INVALID'],
    ['/a%7F', 'GH_PATH_INVALID'],
    ['/a\nb', 'GH_PATH_INVALID'],
    ['/a\tb', 'GH_PATH_INVALID'],
    ['/a%00b', 'GH_PATH_NUL_BYTE'],
    ['/a\0b', 'GH_PATH_NUL_BYTE'],
    ['/%', 'GH_PATH_INVALID_ENCODING'],
    ['/a%2', 'GH_PATH_INVALID_ENCODING'],
    ['/%z1', 'GH_PATH_INVALID_ENCODING'],
    ['/%1z', 'GH_PATH_INVALID_ENCODING'],
    ['/%%30%30', 'GH_PATH_INVALID_ENCODING'],
    ['/%FF', 'GH_PATH_INVALID_ENCODING'],
    ['/%80', 'GH_PATH_INVALID_ENCODING'],
    ['/%E0%A4%A', 'GH_PATH_INVALID_ENCODING'],
    ['/%e0%80', 'GH_PATH_INVALID_ENCODING'],
    ['/%E0%80%AF', 'GH_PATH_INVALID_ENCODING'],
    ['/%C0%AF', 'GH_PATH_INVALID_ENCODING'],
    ['/%C0%AE%C0%AE/admin', 'GH_PATH_INVALID_ENCODING'],
    ['/%C1%81', 'GH_PATH_INVALID_ENCODING'],
    ['/%ED%A0%80', 'GH_PATH_INVALID_ENCODING'],
    ['/%ED%BF%BF', 'GH_PATH_INVALID_ENCODING'],
    ['/%F4%90%80%80', 'GH_PATH_INVALID_ENCODING'],
    ['/%F5%80%80%80', 'GH_PATH_INVALID_ENCODING'],
    ['/%F0%8F%BF%BF', 'GH_PATH_INVALID_ENCODING'],
    ['/%C3é', 'GH_PATH_INVALID_ENCODING'],
    ['/%C3/%A9', 'GH_PATH_INVALID_ENCODING'],
    ['/%u002e', 'GH_PATH_INVALID_ENCODING'],
    ['/a\uD800b', 'GH_PATH_INVALID_ENCODING'],
    ['/a\uDC00', 'GH_PATH_INVALID_ENCODING'],
    ['/a%2fb', 'GH_PATH_ENCODED_SLASH'],
    ['/a%2Fb', 'GH_PATH_ENCODED_SLASH'],
    ['/a%5cb', 'GH_PATH_ENCODED_SLASH'],
    ['/a\\b', 'GH_PATH_ENCODED_SLASH'],
    ['/..%2f..%2fetc/passwd', 'GH_PATH_ENCODED_SLASH'],
  ];
  it.each(rejected)('%j → %s', (input, code) => {
    expect(codeOf(() => normalizePath(input))).toBe(code);
  });

  it('refuses the two characters that Unicode case folding turns into ASCII letters', () => {
    // U+017F (long s → s) and U+212A (Kelvin → k): a proxied service that folds Unicode case would read
    // '/ſecret' as '/secret', where the rule for '/secret' did not apply.
    for (const input of ['/%C5%BFecret', '/\u017Fecret', '/%E2%84%AAiosk', '/a/\u212A']) {
      expect(codeOf(() => normalizePath(input))).toBe('GH_PATH_INVALID');
    }
    expect(() => normalizePath('/%C5%BFecret')).toThrow('U+17F (case-folds to ASCII) at offset 1');
    // Their neighbours and the other folding tricks decode as data: routers see them encoded.
    expect(normalizePath('/%C4%B1')).toBe('/\u0131');
    expect(normalizePath('/%EF%BD%81dmin')).toBe('/\uFF41dmin');
    expect(normalizePath('/%C5%BE')).toBe('/\u017E');
  });

  it('does not echo the path in the error detail', () => {
    expect(() => normalizePath('/secret%zz')).toThrow('malformed percent-escape at offset 7');
  });
});

describe('normalizePath fast path', () => {
  it('returns the same string for a canonical path', () => {
    for (const p of ['/', '/api/v1/orders/42', '/files/report.json', '/a-b_c~d/E.F', '/x/...']) {
      const input = `${p}`;
      expect(normalizePath(input)).toBe(input);
      expect(normalizePath(input, policy({ trailingSlash: 'keep', mergeSlashes: false }))).toBe(input);
    }
  });

  it('agrees with the full normalization on every policy', () => {
    const policies = [
      policy({}),
      policy({ encodedSlashes: 'keep', pathParams: 'keep', trailingSlash: 'keep', mergeSlashes: false }),
      policy({ encodedSlashes: 'decode', pathParams: 'reject' }),
    ];
    // A trailing ';' forces the slow path and is stripped, so the results must match the fast path.
    for (const p of ['/api/v1/orders/42', '/a.b/c..d/.e', '/x:y@z']) {
      expect(normalizePath(`${p};`, policies[0])).toBe(normalizePath(p, policies[0]));
      for (const pol of policies) expect(normalizePath(p, pol)).toBe(p);
    }
  });

  it('normalizes a long path in linear time', () => {
    const long = `/${'a/'.repeat(50_000)}..`;
    const started = performance.now();
    expect(normalizePath(long)).toBe(`/${Array(49_999).fill('a').join('/')}`);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('normalizePath policies', () => {
  it.each([
    ['/a%2fb', '/a/b'],
    ['/a%5cb', '/a/b'],
    ['/a\\b', '/a/b'],
    ['/a%2f..%2fadmin', '/admin'],
    ['/a\\..\\admin', '/admin'],
    ['/a%2F%2Fb', '/a/b'],
    ['/a%2f;x/b', '/a/b'],
  ])('encodedSlashes decode: %j → %j', (input, expected) => {
    expect(normalizePath(input, policy({ encodedSlashes: 'decode' }))).toBe(expected);
  });

  it.each([
    ['/a%2fb', '/a%2Fb'],
    ['/a%2Fb', '/a%2Fb'],
    ['/a%5cb', '/a%5Cb'],
    ['/a\\b', '/a%5Cb'],
    ['/a%2f..', '/a%2F..'],
    ['/x/..%2f', '/x/..%2F'],
    ['/100%25', '/100%25'],
    ['/%252F', '/%252F'],
    ['/%C3%A9', '/é'],
  ])('encodedSlashes keep: %j → %j', (input, expected) => {
    expect(normalizePath(input, policy({ encodedSlashes: 'keep' }))).toBe(expected);
  });

  it('keeps encoded slashes distinguishable from a literal "%2F" in keep mode', () => {
    const keep = policy({ encodedSlashes: 'keep' });
    expect(normalizePath('/a%2Fb', keep)).not.toBe(normalizePath('/a%252Fb', keep));
  });

  it('mergeSlashes: false keeps empty segments', () => {
    const p = policy({ mergeSlashes: false });
    expect(normalizePath('//admin', p)).toBe('//admin');
    expect(normalizePath('/a//b', p)).toBe('/a//b');
    expect(normalizePath('/a//../b', p)).toBe('/a/b');
    expect(normalizePath('/a//', p)).toBe('/a/');
  });

  it('trailingSlash: keep', () => {
    const p = policy({ trailingSlash: 'keep' });
    expect(normalizePath('/admin/', p)).toBe('/admin/');
    expect(normalizePath('/admin//', p)).toBe('/admin/');
    expect(normalizePath('/a/b/..', p)).toBe('/a/');
    expect(normalizePath('/a/.', p)).toBe('/a/');
    expect(normalizePath('/', p)).toBe('/');
    expect(normalizePath('/..', p)).toBe('/');
  });

  it('pathParams: reject', () => {
    const p = policy({ pathParams: 'reject' });
    expect(codeOf(() => normalizePath('/admin;jsessionid=1', p))).toBe('GH_PATH_PARAMS');
    expect(codeOf(() => normalizePath('/a;/b', p))).toBe('GH_PATH_PARAMS');
    expect(normalizePath('/a%3Bb', p)).toBe('/a;b');
  });

  it('pathParams: keep, but never lets ";" hide a dot segment', () => {
    const p = policy({ pathParams: 'keep' });
    expect(normalizePath('/admin;jsessionid=1', p)).toBe('/admin;jsessionid=1');
    expect(normalizePath('/a;b/../c', p)).toBe('/c');
    expect(normalizePath('/a/...;x', p)).toBe('/a/...;x');
    expect(normalizePath('/a/.x;y', p)).toBe('/a/.x;y');
    expect(codeOf(() => normalizePath('/a/..;x/admin', p))).toBe('GH_PATH_PARAMS');
    expect(codeOf(() => normalizePath('/a/%2E.;x/admin', p))).toBe('GH_PATH_PARAMS');
    expect(codeOf(() => normalizePath('/a/.;', p))).toBe('GH_PATH_PARAMS');
    expect(
      codeOf(() => normalizePath('/a/x%2f..;x', policy({ pathParams: 'keep', encodedSlashes: 'decode' }))),
    ).toBe('GH_PATH_PARAMS');
    expect(codeOf(() => normalizePath('/a;x%2Fy', p))).toBe('GH_PATH_ENCODED_SLASH');
  });

  it('refuses a dot segment made with %3B in any mode', () => {
    expect(codeOf(() => normalizePath('/admin/..%3Bx/'))).toBe('GH_PATH_PARAMS');
    expect(codeOf(() => normalizePath('/admin/.%3b'))).toBe('GH_PATH_PARAMS');
  });

  it('stays linear with many segments and a late ";"', () => {
    const started = performance.now();
    expect(normalizePath(`${'/a'.repeat(100_000)};x`)).toBe('/a'.repeat(100_000));
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('createPathMatcher', () => {
  it('matches exact patterns case-insensitively by default', () => {
    const m = createPathMatcher('/orders');
    expect(m('/orders')).toBe(true);
    expect(m('/ORDERS')).toBe(true);
    expect(m('/orders/1')).toBe(false);
    expect(m('/ordersx')).toBe(false);
    expect(m('/')).toBe(false);
  });

  it('honours caseSensitive', () => {
    const m = createPathMatcher('/Orders', { caseSensitive: true });
    expect(m('/Orders')).toBe(true);
    expect(m('/orders')).toBe(false);
    const p = createPathMatcher('/Orders/:id', { caseSensitive: true });
    expect(p('/Orders/1')).toBe(true);
    expect(p('/orders/1')).toBe(false);
  });

  it('matches prefixes with a final *', () => {
    const m = createPathMatcher('/orders/*');
    expect(m('/orders')).toBe(true);
    expect(m('/orders/')).toBe(true);
    expect(m('/orders/1/items')).toBe(true);
    expect(m('/Orders/1')).toBe(true);
    expect(m('/ordersx')).toBe(false);
    expect(m('/orders\u2028/x')).toBe(false);
    expect(m('/orders/\u2028')).toBe(true);
    expect(m('/orders/a\nb')).toBe(true);
    expect(createPathMatcher('/*')('/anything/at/all')).toBe(true);
  });

  it('matches one segment for a parameter', () => {
    const m = createPathMatcher('/orders/:id');
    expect(m('/orders/42')).toBe(true);
    expect(m('/orders/😀')).toBe(true);
    expect(m('/orders/a%2Fb')).toBe(true);
    expect(m('/orders')).toBe(false);
    expect(m('/orders/')).toBe(false);
    expect(m('/orders/42/items')).toBe(false);
    expect(createPathMatcher('/a/:x/c/:y')('/a/1/c/2')).toBe(true);
  });

  it('treats pattern text literally, never as a regular expression', () => {
    const m = createPathMatcher('/a.b/(x|y)+/[z]');
    expect(m('/a.b/(x|y)+/[z]')).toBe(true);
    expect(m('/aXb/x/z')).toBe(false);
    expect(createPathMatcher('/a.*')('/abc')).toBe(false);
  });

  it('folds ASCII letters only, as routers matching the percent-encoded target do', () => {
    // A router sees '/%C3%89T%C3%89' and '/%E2%84%AAiosk': folding them here would let an earlier rule
    // take a request whose handler belongs to a later one ('/:x/admin' after '/été/*').
    expect(createPathMatcher('/été')('/été')).toBe(true);
    expect(createPathMatcher('/été')('/ÉTÉ')).toBe(false);
    expect(createPathMatcher('/été')('/éTé')).toBe(true);
    expect(createPathMatcher('/kiosk/*')('/\u212Aiosk/x')).toBe(false);
    expect(createPathMatcher('/admin')('/adm\u0131n')).toBe(false);
    expect(createPathMatcher('/admin')('/\uFF41dmin')).toBe(false);
    expect(createPathMatcher('/Admin/:id/*')('/aDMIN/ſ/x')).toBe(true);
    expect(createPathMatcher('/a-b_c')('/A-B_C')).toBe(true);
    expect(createPathMatcher('/a-b_c')('/A-B-C')).toBe(false);
  });

  it('works with normalizePath as a pair', () => {
    const admin = createPathMatcher('/admin/*');
    for (const attempt of [
      '/x/../admin',
      '/%2e%2e/ADMIN/users',
      '//admin',
      '/admin;x/',
      '/public/..;/admin',
    ]) {
      expect(admin(normalizePath(attempt))).toBe(true);
    }
  });

  it.each([['orders'], [''], ['/a/*/b'], ['/a/:'], ['/a/:1x'], ['/a/../b'], ['/./a']])(
    'rejects the pattern %j',
    (pattern) => {
      expect(() => createPathMatcher(pattern)).toThrow(TypeError);
    },
  );
});

import { ConfigError, fileJsonSchema, isCodeOnlyOption, parseOptions } from '@gatehousejs/core';
import type * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { apiKeyAuthenticator, apiKeyOptionsSchema } from './api-keys.js';
import { auth } from './auth.js';
import { createIdentityVerifier } from './forward.js';
import { identityAuthenticator, identityAuthenticatorOptionsSchema } from './identity.js';
import { introspectionAuthenticator, introspectionOptionsSchema } from './introspection.js';
import { createJwksCache, jwksOptionsSchema } from './jwks.js';
import { jwtAuthenticator, jwtOptionsSchema } from './jwt.js';
import { mtlsAuthenticator, mtlsOptionsSchema } from './mtls.js';
import { passportAuthenticator, passportOptionsSchema } from './passport.js';
import type { Authenticator } from './principal.js';

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

const method = (name: string): Authenticator => ({ name, authenticate: () => undefined });

describe('auth options: one ConfigError with every problem, its path and a suggestion', () => {
  it('at every depth: the options, each rule, the default requirement and the forwarder', () => {
    expect(
      problemsOf(() =>
        auth({
          methods: [method('jwt'), method('apiKey')],
          combine: 'al',
          rules: [
            { path: '/admin/', roles: ['admin'] },
            { path: '/orders/*', httpMethods: ['post'], scope: ['orders:write'] },
            { path: '/public/*', anonymous: 'yes' },
            { path: '/keys/*', methods: ['apikey'] },
          ],
          default: 'anonymus',
          realm: 7,
          forward: { header: {} },
        } as never),
      ),
    ).toEqual([
      "auth.combine: expected one of 'first' or 'all', received the string 'al' — did you mean 'all'?",
      "auth.rules[0].path: must not end with '/': a normalized path never does, so it would never match — did you mean '/admin' (that path) or '/admin/*' (it and everything below)?",
      'auth.rules[1].httpMethods[0]: must be an upper-case method name, received "post" — did you mean \'POST\'?',
      "auth.rules[1].scope: unknown option; did you mean 'scopes'?",
      "auth.rules[2].anonymous: expected true or false, received the string 'yes' — did you mean true (without quotes)?",
      "auth.rules[3].methods: unknown method 'apikey' — did you mean 'apiKey'?",
      "auth.default: expected 'authenticated', 'anonymous', 'deny' or an object, received the string 'anonymus' — did you mean 'anonymous'?",
      'auth.realm: expected a string, received the number 7',
      "auth.forward.header: unknown option; did you mean 'headers'?",
    ]);
  });

  it('forward: the token, its key against its algorithm, and the headers', () => {
    expect(
      problemsOf(() =>
        auth({
          methods: [method('jwt')],
          forward: {
            token: { key: new Uint8Array(40), alg: 'HS521', ttl: 30, kid: 'a\nb' },
            headers: { 'x-user-id': 'ids', Host: 'id', 'x-gatehouse-identity': 'id' },
          },
        } as never),
      ),
    ).toEqual([
      "auth.forward.token.header: 'x-gatehouse-identity' is also set by forward.headers",
      "auth.forward.token.alg: expected one of 'HS256', 'HS384', 'HS512', 'EdDSA', 'ES256', 'ES384', 'RS256' or 'PS256', received the string 'HS521' — did you mean 'HS512'?",
      'auth.forward.token.ttl: unknown option; expected one of key, alg, kid, header, ttlSec, issuer, audience',
      'auth.forward.token.kid: must be a non-empty string without control characters',
      "auth.forward.headers[\"x-user-id\"]: expected 'id', 'method', 'scopes', 'roles', 'tier', 'clientId' or a function (principal) => string | undefined, received the string 'ids' — did you mean 'id'?",
      'auth.forward.headers.Host: is not a header name that can carry identity',
    ]);
    expect(
      problemsOf(() =>
        auth({ methods: [method('jwt')], forward: { token: { key: new Uint8Array(40), alg: 'HS512' } } }),
      ),
    ).toEqual(['auth.forward.token.key: an HS512 key must be a Uint8Array secret of at least 64 bytes']);
  });

  it('checks across options even when a type is wrong elsewhere', () => {
    expect(
      problemsOf(() =>
        auth({
          methods: [method('a'), method('a')],
          rules: [{ path: '/x', anonymous: true, deny: true, roles: ['r'] }],
          realm: 1.5,
        } as never),
      ),
    ).toEqual([
      "auth.methods[1]: method name 'a' is used twice",
      "auth.rules[0]: 'anonymous' and 'deny' cannot both be set",
      "auth.rules[0]: an 'anonymous' route cannot also require scopes, roles or 'allow'",
      'auth.realm: expected a string, received the number 1.5',
    ]);
  });

  it('auth.require() checks its requirement the same way, once, when the route is set up', () => {
    const middleware = auth({ methods: [method('jwt')] });
    expect(problemsOf(() => middleware.require({ role: ['admin'], methods: ['jtw'] } as never))).toEqual([
      "auth.require().role: unknown option; did you mean 'roles'?",
      "auth.require().methods: unknown method 'jtw' — did you mean 'jwt'?",
    ]);
    expect(middleware.require({ roles: ['admin'] }).name).toBe('auth.require');
  });

  it('createIdentityVerifier() checks its options the same way', () => {
    expect(
      problemsOf(() => createIdentityVerifier({ key: 'secret', alg: 'HS265', clockTolerance: 5 } as never)),
    ).toEqual([
      // Text is read as a PEM public key; an HS* secret is bytes.
      'createIdentityVerifier.key: is not a PEM public key or certificate',
      "createIdentityVerifier.alg: expected one of 'HS256', 'HS384', 'HS512', 'EdDSA', 'ES256', 'ES384', 'RS256' or 'PS256', received the string 'HS265' — did you mean 'HS256'?",
      "createIdentityVerifier.clockTolerance: unknown option; did you mean 'clockToleranceSec'?",
    ]);
    expect(problemsOf(() => createIdentityVerifier({ key: 42, alg: 'HS256' } as never))).toEqual([
      'createIdentityVerifier.key: expected a key: PEM text, a JWK, a KeyObject, a CryptoKey or a Uint8Array secret',
    ]);
    expect(
      problemsOf(() => createIdentityVerifier({ key: new Uint8Array(32), alg: 'HS256', issuer: 7 } as never)),
    ).toEqual(['createIdentityVerifier.issuer: expected a string, received the number 7']);
  });
});

describe('the authenticators check their options against the valibot schemas they export', () => {
  const factories: [string, v.GenericSchema, (options: never) => unknown, Record<string, unknown>][] = [
    [
      'jwt',
      jwtOptionsSchema,
      jwtAuthenticator,
      {
        jwks: { url: 'ftp://idp', maxKeys: 0, fetch: 'no' },
        issuer: [],
        scheme: 'To ken',
        keys: [{ key: 'not pem', alg: 'RS256' }],
        clockTolerance: 5,
      },
    ],
    ['jwks', jwksOptionsSchema, createJwksCache, { url: 'x', timeoutMs: -1, maxAge: 1 }],
    [
      'apiKey',
      apiKeyOptionsSchema,
      apiKeyAuthenticator,
      {
        keys: [
          { key: ' k', id: 'a' },
          { hash: 'md5:x', id: '' },
        ],
        header: false,
        cach: false,
      },
    ],
    [
      'introspection',
      introspectionOptionsSchema,
      introspectionAuthenticator,
      { endpoint: 'https://u:p@x/i', clientId: 'a', timeoutMs: 0, scopeClaim: 'x' },
    ],
    [
      'auth.passport',
      passportOptionsSchema,
      (o: never) => passportAuthenticator({ authenticate() {} }, o),
      {
        scheme: 'a b',
        credentials: [{ query: 'q', scheme: 'B' }],
        timeout: 5,
      },
    ],
    [
      'auth.mtls',
      mtlsOptionsSchema,
      mtlsAuthenticator,
      { identity: 'cn', allowedSpiffeTrustDomains: ['X'], allowedIdentity: [] },
    ],
    [
      'identity',
      identityAuthenticatorOptionsSchema,
      identityAuthenticator,
      { key: 'pem?', alg: 'EdDSA', cache: { max: 0 } },
    ],
  ];

  it.each(factories)(
    '%s: the same problems from the schema as from the factory',
    (name, schema, factory, bad) => {
      const fromFactory = problemsOf(() => factory(bad as never));
      expect(fromFactory.length).toBeGreaterThan(1);
      expect(problemsOf(() => parseOptions(schema, bad, { name }))).toEqual(fromFactory);
    },
  );

  it('functions and objects built in code are marked code only; everything else converts to JSON Schema', () => {
    const codeOnly = (schema: { entries: v.ObjectEntries }, key: string) =>
      isCodeOnlyOption(schema.entries[key] as v.GenericSchema);
    expect(codeOnly(jwtOptionsSchema, 'toPrincipal')).toBe(true);
    expect(codeOnly(jwtOptionsSchema, 'issuer')).toBe(false);
    expect(codeOnly(jwksOptionsSchema, 'fetch')).toBe(true);
    expect(codeOnly(apiKeyOptionsSchema, 'lookup')).toBe(true);
    expect(codeOnly(introspectionOptionsSchema, 'fetch')).toBe(true);
    expect(codeOnly(passportOptionsSchema, 'toPrincipal')).toBe(true);
    const json = fileJsonSchema(jwtOptionsSchema) as {
      additionalProperties?: boolean;
      properties: Record<string, { anyOf?: unknown[] }>;
    };
    expect(json.additionalProperties).toBe(false);
    expect(Object.keys(json.properties)).toEqual(
      expect.arrayContaining(['jwks', 'keys', 'issuer', 'scheme']),
    );
  });
});

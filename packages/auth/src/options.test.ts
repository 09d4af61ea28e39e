import { ConfigError } from '@gatehousejs/core';
import { describe, expect, it } from 'vitest';
import { auth } from './auth.js';
import { createIdentityVerifier } from './forward.js';
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

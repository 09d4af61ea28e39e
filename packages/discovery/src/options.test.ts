import { ConfigError } from '@gatehousejs/core';
import { describe, expect, it } from 'vitest';
import { dnsResolver } from './dns.js';
import { etcdResolver } from './etcd.js';
import { registerWithEtcd } from './register.js';
import { createRegistry } from './registry.js';

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

describe('discovery options: one ConfigError, every depth', () => {
  it('registerWithEtcd checks the endpoint inside its options, and the connection across them', () => {
    expect(
      problemsOf(() =>
        registerWithEtcd({
          hosts: ['http://127.0.0.1:2379', 'localhost'],
          client: {},
          prefix: '/services/orders/',
          endpoint: { host: '10.0.0.7', port: '8080', zoen: 'a', metadata: { v: [1] } },
          retryInitialMs: 9_000,
          ttlSecond: 10,
        } as never),
      ),
    ).toEqual([
      'registerWithEtcd: give exactly one of `client` (an etcd3 client) and `hosts`',
      'registerWithEtcd.hosts[1]: must be http(s)://host:port, got "localhost"',
      'registerWithEtcd.client: expected an etcd3 client (new Etcd3(…)) or a namespace of one, received an object',
      'registerWithEtcd.endpoint.port: must be an integer from 1 to 65535, got "8080"',
      "registerWithEtcd.endpoint.zoen: unknown option; did you mean 'zone'?",
      'registerWithEtcd.endpoint.metadata.v: must be a string, number or boolean, got [1]',
      'registerWithEtcd.retryInitialMs: must not exceed retryMaxMs (5000)',
      "registerWithEtcd.ttlSecond: unknown option; did you mean 'ttlSeconds'?",
    ]);
  });

  it('etcdResolver wants a parse function, and dnsResolver a known type', () => {
    expect(
      problemsOf(() =>
        etcdResolver({ hosts: 'http://127.0.0.1:2379', prefix: '/s/', parse: 'json' } as never),
      ),
    ).toEqual([
      "etcdResolver.parse: expected a function (value, key) => endpoint | undefined, received the string 'json'",
    ]);
    expect(
      problemsOf(() => dnsResolver({ name: 'orders.internal', type: 'AAA', port: 80 } as never)),
    ).toEqual([
      "dnsResolver.type: expected one of 'SRV', 'A', 'AAAA' or 'A+AAAA', received the string 'AAA' — did you mean 'AAAA'?",
    ]);
  });

  it('the registry checks the service and the endpoint together', () => {
    const registry = createRegistry();
    expect(problemsOf(() => registry.register('', { host: 'h', prot: 1 } as never))).toEqual([
      'registry.register.service: must not be empty',
      'registry.register.endpoint.port: is required',
      "registry.register.endpoint.prot: unknown option; did you mean 'port'?",
    ]);
    expect(problemsOf(() => registry.resolver(5 as never))).toEqual([
      'registry.resolver.service: expected a string, received the number 5',
    ]);
  });
});

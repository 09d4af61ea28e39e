import { ConfigError } from '@gatehousejs/core';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Endpoint, etcdResolver, type Resolver, registerWithEtcd } from './index.js';
import { type EtcdServer, etcdMissing, startEtcd } from './test-etcd.js';
import { ON_CI, waitFor } from './test-support.js';

const missing = etcdMissing();
const ids = (list: readonly Endpoint[]) => list.map((e) => e.id);
/** The sockets and timers of this process, as a comparable string. */
const handles = () =>
  process
    .getActiveResourcesInfo()
    .filter((r) => ['TCPSocketWrap', 'TCPWrap', 'Timeout'].includes(r))
    .sort()
    .join(',');

describe.skipIf(missing !== undefined && !ON_CI)('etcdResolver and registerWithEtcd', () => {
  let etcd: EtcdServer;
  let client: Etcd3;
  const open: Array<{ close(): Promise<void> }> = [];
  const track = <T extends { close(): Promise<void> }>(thing: T): T => {
    open.push(thing);
    return thing;
  };

  beforeAll(async () => {
    if (missing !== undefined) throw new Error(`CI=true and ${missing}`);
    etcd = await startEtcd();
    client = new Etcd3({ hosts: etcd.url });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(open.splice(0).map((thing) => thing.close()));
  });
  afterAll(async () => {
    client?.close();
    await etcd?.stop();
  });

  it('reads the prefix, then follows puts and deletes, telling subscribers only of real changes', async () => {
    const prefix = '/t1/orders/';
    await etcd.put(
      `${prefix}a`,
      JSON.stringify({ host: '127.0.0.1', port: 3001, zone: 'z1', metadata: { v: '1' }, addedLater: true }),
    );
    await etcd.put(`${prefix}b`, 'http://127.0.0.1:3002');
    await etcd.put('/t1/ordersX', 'http://127.0.0.1:9999'); // beside the prefix, not under it
    const resolver = track(etcdResolver({ client, prefix }));
    expect(resolver.name).toBe('etcd:/t1/orders/');
    expect(await resolver.ready()).toEqual([
      {
        id: 'a',
        protocol: 'http:',
        host: '127.0.0.1',
        port: 3001,
        weight: 1,
        priority: 0,
        zone: 'z1',
        metadata: { v: '1' },
      },
      { id: 'b', protocol: 'http:', host: '127.0.0.1', port: 3002, weight: 1, priority: 0 },
    ]);
    expect(resolver.status()).toMatchObject({ stale: false });

    const told: string[][] = [];
    resolver.subscribe((list) => told.push(list.map((e) => `${e.id}:${e.port}/${e.weight}`)));
    await etcd.put(`${prefix}c`, JSON.stringify({ host: '127.0.0.1', port: 3003, weight: 3 }));
    await waitFor('c to be told', () => told.length === 1);
    expect(told[0]).toEqual(['a:3001/1', 'b:3002/1', 'c:3003/3']);
    // Written again unchanged (as a re-registration does): not a change. The next put is, and etcd
    // delivers events in order, so by the time it is told the unchanged one was seen and dropped.
    await etcd.put(`${prefix}c`, JSON.stringify({ host: '127.0.0.1', port: 3003, weight: 3 }));
    await etcd.put(`${prefix}b`, 'http://127.0.0.1:3012');
    await waitFor('b to be told', () => told.length === 2);
    expect(told[1]).toEqual(['a:3001/1', 'b:3012/1', 'c:3003/3']);
    await etcd.del(`${prefix}a`);
    await waitFor('the removal to be told', () => told.length === 3);
    expect(told[2]).toEqual(['b:3012/1', 'c:3003/3']);
    expect(told).toHaveLength(3);
  });

  it('skips a value it cannot read, with one warning each; a custom parse reads other formats', async () => {
    const warnings: string[] = [];
    vi.spyOn(process, 'emitWarning').mockImplementation(((message: string, options?: { code?: string }) => {
      warnings.push(`${options?.code}: ${message}`);
    }) as typeof process.emitWarning);
    const prefix = '/t2/orders/';
    await etcd.put(`${prefix}good`, 'http://127.0.0.1:3001');
    await etcd.put(`${prefix}broken`, '{not json');
    await etcd.put(`${prefix}wrong`, JSON.stringify({ host: '127.0.0.1', port: 'eighty' }));
    const resolver = track(etcdResolver({ client, prefix }));
    expect(ids(await resolver.ready())).toEqual(['good']);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^GH_DISCOVERY_INVALID_ENTRY: etcd:\/t2\/orders\/: skipping key '\/t2\/orders\/broken': value: cannot be read: .*JSON/,
    );
    expect(warnings[1]).toBe(
      `GH_DISCOVERY_INVALID_ENTRY: etcd:/t2/orders/: skipping key '/t2/orders/wrong': value.port: must be an integer from 1 to 65535, got "eighty"`,
    );
    await etcd.put(`${prefix}wrong`, JSON.stringify({ host: '127.0.0.1', port: 80 }));
    await waitFor('the corrected value', () => resolver.current().length === 2);
    expect(ids(resolver.current())).toEqual(['good', 'wrong']);
    expect(warnings).toHaveLength(2);

    const custom = track(
      etcdResolver({
        client,
        prefix: '/t2/legacy/',
        parse: (value, key) =>
          key.endsWith('/skip')
            ? undefined
            : { host: value.split(' ')[0]!, port: Number(value.split(' ')[1]), metadata: { raw: value } },
      }),
    );
    await etcd.put('/t2/legacy/one', '10.0.0.1 8080');
    await etcd.put('/t2/legacy/skip', 'whatever');
    await waitFor('the legacy entry', () => custom.current().length === 1);
    expect(custom.current()[0]).toMatchObject({
      id: 'one',
      host: '10.0.0.1',
      port: 8080,
      metadata: { raw: '10.0.0.1 8080' },
    });
  });

  it('registerWithEtcd: a lease kept alive by heartbeat, registered again when lost, revoked on close', async () => {
    const prefix = '/t3/orders/';
    const resolver = track(etcdResolver({ hosts: etcd.url, prefix }));
    expect(await resolver.ready()).toEqual([]);
    const registration = track(
      registerWithEtcd({
        hosts: [etcd.url],
        prefix,
        endpoint: { host: '127.0.0.1', port: 4001, zone: 'z', metadata: { version: '1.2' } },
        ttlSeconds: 1,
        retryInitialMs: 50,
        retryMaxMs: 200,
      }),
    );
    await registration.ready();
    expect(registration.key).toBe('/t3/orders/127.0.0.1:4001');
    const lease = registration.status().leaseId!;
    const stored = await etcd.get(registration.key);
    expect(stored?.lease).toBe(lease);
    expect(lease).not.toBe('0');
    expect(JSON.parse(stored!.value)).toEqual({
      host: '127.0.0.1',
      port: 4001,
      protocol: 'http:',
      weight: 1,
      priority: 0,
      zone: 'z',
      metadata: { version: '1.2' },
    });
    await waitFor('the resolver to see it', () => resolver.current().length === 1);
    expect(resolver.current()[0]).toEqual({
      id: '127.0.0.1:4001',
      protocol: 'http:',
      host: '127.0.0.1',
      port: 4001,
      weight: 1,
      priority: 0,
      zone: 'z',
      metadata: { version: '1.2' },
    });

    // Without its heartbeat a 1 s lease would be gone well within 2 s; this one must still be there.
    // (A wait is the property under test here, not a way to let something finish.)
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await etcd.get(registration.key))?.lease).toBe(lease);

    // The lease is revoked behind the service's back: the key vanishes, and the service registers again.
    const told: string[][] = [];
    resolver.subscribe((list) => told.push(ids(list)));
    await etcd.revoke(lease);
    // The key can be stored a moment before the registration has processed etcd's answer (and a
    // re-registration may take more than one lease): wait until both agree on the new lease.
    const again = await waitFor('a new registration', async () => {
      const kv = await etcd.get(registration.key);
      const status = registration.status();
      return kv !== undefined && kv.lease !== lease && status.registered && status.leaseId === kv.lease && kv;
    });
    expect(registration.status()).toMatchObject({ registered: true, leaseId: again.lease });
    await waitFor('the resolver to see it back', () => told.length === 2);
    expect(told).toEqual([[], ['127.0.0.1:4001']]);

    // Closing revokes the lease, so the key goes now rather than after the TTL.
    await registration.close();
    expect(await etcd.get(registration.key)).toBeUndefined();
    expect(registration.status().registered).toBe(false);
    await waitFor('the resolver to be told', () => told.length === 3);
    expect(told[2]).toEqual([]);
  });

  it('close() releases the client it made, its watch and its timers', async () => {
    let previous = '';
    const before = await waitFor('handles to settle', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const now = handles();
      const settled = now === previous;
      previous = now;
      return settled && now;
    });
    const resolver = etcdResolver({ hosts: etcd.url, prefix: '/t4/' });
    const registration = registerWithEtcd({
      hosts: etcd.url,
      prefix: '/t4/',
      endpoint: 'http://127.0.0.1:1',
      ttlSeconds: 1,
    });
    await registration.ready();
    await waitFor('the registration to be seen', () => resolver.current().length === 1);
    await Promise.all([resolver.close(), registration.close()]);
    await expect(resolver.ready()).resolves.toHaveLength(0);
    // None more of any kind than before: others may close meanwhile (the test's own etcd client,
    // runner timers), but nothing the resolver or the registration made may stay open.
    const count = (list: string) => {
      const counts = new Map<string, number>();
      for (const kind of list.split(',').filter(Boolean)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
      return counts;
    };
    const allowed = count(before);
    await waitFor(
      'sockets and timers to be released',
      () => [...count(handles())].every(([kind, n]) => n <= (allowed.get(kind) ?? 0)) || undefined,
      { timeoutMs: 3_000 },
    );
  });

  it('validates its options once, listing every problem', () => {
    const problems = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
      }
      throw new Error('expected a ConfigError');
    };
    expect(
      problems(() => etcdResolver({ prefix: '', hosts: 'ftp://x', timeoutMs: -1, prefx: 'x' } as never)),
    ).toEqual([
      'etcdResolver.prefix: must be a non-empty string such as /services/orders/',
      'etcdResolver.hosts: must be http(s)://host:port, got "ftp://x"',
      'etcdResolver.timeoutMs: expected a number > 0, received the number -1',
      "etcdResolver.prefx: unknown option; did you mean 'prefix'?",
    ]);
    expect(problems(() => etcdResolver({ prefix: '/x/', client, hosts: etcd.url }))).toEqual([
      'etcdResolver: give exactly one of `client` (an etcd3 client) and `hosts`',
    ]);
    expect(
      problems(() =>
        registerWithEtcd({ client, prefix: '/x/', endpoint: 'nope://x', ttlSeconds: 0.5 } as never),
      ),
    ).toEqual([
      "registerWithEtcd.endpoint: must be an http: or https: URL, got 'nope:'",
      'registerWithEtcd.ttlSeconds: expected an integer, received the number 0.5',
    ]);
  });
});

describe.skipIf(missing !== undefined && !ON_CI)('etcd: ready() and status() while etcd is down', () => {
  it('settles with an empty stale list, then fills in once etcd is up', async () => {
    if (missing !== undefined) throw new Error(`CI=true and ${missing}`);
    const etcd = await startEtcd();
    const things: Array<{ close(): Promise<void> }> = [];
    try {
      await etcd.kill();
      const options = {
        hosts: etcd.url,
        prefix: '/down/',
        retryInitialMs: 50,
        retryMaxMs: 200,
        timeoutMs: 500,
      };
      const resolver: Resolver = etcdResolver(options);
      things.push(resolver);
      expect(await resolver.ready()).toEqual([]);
      expect(resolver.status()).toMatchObject({
        stale: true,
        lastError: { code: 'GH_DISCOVERY_ETCD_UNAVAILABLE' },
      });
      const registration = registerWithEtcd({ ...options, endpoint: 'http://127.0.0.1:5001', ttlSeconds: 1 });
      things.push(registration);
      await waitFor('a failed registration attempt', () => registration.status().lastError !== undefined);
      expect(registration.status().registered).toBe(false);
      await etcd.start();
      await registration.ready();
      await waitFor(
        'the resolver to catch up',
        () => resolver.current().length === 1 && !resolver.status().stale,
      );
      expect(ids(resolver.current())).toEqual(['127.0.0.1:5001']);
    } finally {
      await Promise.all(things.map((thing) => thing.close()));
      await etcd.stop();
    }
  });
});

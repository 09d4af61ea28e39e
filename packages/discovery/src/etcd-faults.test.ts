// etcd failing under a service that keeps calling its upstreams: killed mid-traffic and restarted,
// and replaced by a fresh member that has none of the old history.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Endpoint, etcdResolver, type Resolver, registerWithEtcd } from './index.js';
import { type EtcdServer, etcdMissing, startEtcd } from './test-etcd.js';
import { ON_CI, waitFor } from './test-support.js';

const missing = etcdMissing();
const ids = (list: readonly Endpoint[]) => list.map((e) => e.id);

interface Upstream {
  readonly name: string;
  readonly url: string;
  readonly server: Server;
}

async function startUpstream(name: string): Promise<Upstream> {
  const server = createServer((_req, res) => res.end(name));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { name, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/**
 * Calls the resolver's endpoints in turn, as a client would, until stopped; counts what happened.
 * Bounded: it stops by itself after 30 s.
 */
function startTraffic(resolver: Resolver) {
  const stats = {
    ok: 0,
    failed: 0,
    emptyPool: 0,
    byUpstream: new Map<string, number>(),
    errors: [] as string[],
  };
  let running = true;
  const done = (async () => {
    const until = Date.now() + 30_000;
    for (let turn = 0; running && Date.now() < until; turn++) {
      const list = resolver.current();
      if (list.length === 0) {
        stats.emptyPool++;
      } else {
        const endpoint = list[turn % list.length]!;
        try {
          const response = await fetch(`${endpoint.protocol}//${endpoint.host}:${endpoint.port}/`, {
            signal: AbortSignal.timeout(2_000),
          });
          const body = await response.text();
          stats.ok++;
          stats.byUpstream.set(body, (stats.byUpstream.get(body) ?? 0) + 1);
        } catch (error) {
          stats.failed++;
          stats.errors.push(String(error));
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    stats,
    async stop() {
      running = false;
      await done;
    },
  };
}

describe.skipIf(missing !== undefined && !ON_CI)('etcd faults', () => {
  let etcd: EtcdServer;
  let upstreams: Upstream[];
  beforeAll(async () => {
    if (missing !== undefined) throw new Error(`CI=true and ${missing}`);
    [etcd, ...upstreams] = await Promise.all([
      startEtcd(),
      startUpstream('a'),
      startUpstream('b'),
      startUpstream('c'),
    ] as const);
  });
  afterAll(async () => {
    await etcd?.stop();
    for (const upstream of upstreams ?? []) upstream.server.close();
  });
  const fast = () => ({ hosts: etcd.url, retryInitialMs: 50, retryMaxMs: 300, timeoutMs: 1_000 });

  it('etcd killed mid-traffic: the last known endpoints keep serving; the watch resumes and catches up', async () => {
    const [a, b, c] = upstreams as [Upstream, Upstream, Upstream];
    const prefix = '/faults/kill/';
    const registrations = [a, b].map((upstream) =>
      registerWithEtcd({ ...fast(), prefix, endpoint: upstream.url, ttlSeconds: 2 }),
    );
    const resolver = etcdResolver({ ...fast(), prefix });
    let traffic: ReturnType<typeof startTraffic> | undefined;
    try {
      await Promise.all(registrations.map((r) => r.ready()));
      await waitFor('both upstreams in the pool', () => resolver.current().length === 2);
      const pool = resolver.current();
      const flow = startTraffic(resolver);
      traffic = flow;
      await waitFor('traffic to flow', () => flow.stats.ok >= 20);

      await etcd.kill();
      await waitFor('the resolver to see etcd gone', () => resolver.status().stale);
      expect(resolver.status().lastError).toMatchObject({ code: 'GH_DISCOVERY_ETCD_UNAVAILABLE' });
      const okAtOutage = flow.stats.ok;
      await waitFor('traffic to go on while etcd is down', () => flow.stats.ok >= okAtOutage + 50);
      expect(resolver.current()).toBe(pool);

      // Back with its data; a change is made at once, before or while the resolver reconnects.
      await etcd.start();
      await etcd.put(`${prefix}c`, c.url);
      await waitFor(
        'the resolver to catch up',
        () => resolver.current().length === 3 && !resolver.status().stale,
        { timeoutMs: 10_000 },
      );
      expect(ids(resolver.current())).toEqual([...ids(pool), 'c'].sort());
      await waitFor('traffic to reach the new upstream', () => (flow.stats.byUpstream.get('c') ?? 0) > 0);
      await flow.stop();
      expect(flow.stats).toMatchObject({ failed: 0, emptyPool: 0 });
      expect(flow.stats.byUpstream.get('a')).toBeGreaterThan(10);
      expect(flow.stats.byUpstream.get('b')).toBeGreaterThan(10);
      // The registrations outlived the outage (etcd keeps leases across a restart; the heartbeat
      // resumed, or the service registered again).
      for (const registration of registrations) expect(await etcd.get(registration.key)).toBeDefined();
    } finally {
      await traffic?.stop();
      await Promise.all([resolver.close(), ...registrations.map((r) => r.close())]);
    }
  });

  it('etcd replaced by a fresh member: a full read drops what is gone; a lost lease is registered again', async () => {
    const [a, b, c] = upstreams as [Upstream, Upstream, Upstream];
    const prefix = '/faults/fresh/';
    await etcd.put(`${prefix}old`, a.url);
    const registration = registerWithEtcd({ ...fast(), prefix, endpoint: b.url, ttlSeconds: 1 });
    const resolver = etcdResolver({ ...fast(), prefix });
    try {
      await registration.ready();
      const firstLease = registration.status().leaseId;
      await waitFor('both in the pool', () => resolver.current().length === 2);
      const told: string[][] = [];
      resolver.subscribe((list) => told.push(ids(list)));

      await etcd.kill();
      await waitFor('the resolver to see etcd gone', () => resolver.status().stale);
      await etcd.start({ fresh: true });
      await etcd.put(`${prefix}new`, c.url);
      // 'old' was never deleted in the new member's history, so no watch event can remove it; the
      // registration's lease does not exist there, so its heartbeat fails and it registers again.
      const bId = new URL(b.url).host;
      await waitFor(
        'the pool to match the new member',
        () =>
          ids(resolver.current()).join() === [bId, 'new'].sort().join() &&
          !resolver.status().stale &&
          registration.status().registered,
        { timeoutMs: 10_000 },
      );
      expect(registration.status().registered).toBe(true);
      expect(registration.status().leaseId).not.toBe(firstLease);
      expect((await etcd.get(registration.key))?.lease).toBe(registration.status().leaseId);
      expect(told.at(-1)).toEqual([bId, 'new'].sort());
    } finally {
      await Promise.all([resolver.close(), registration.close()]);
    }
  });
});

// Discovery sources that go away under a gateway: a real etcd (SIGKILLed, restarted with its data on
// the same ports) and a real dnsmasq (SIGKILLed, restarted on the same port). A resolver handed to
// gw.client() reports its outage once (GH_DEPENDENCY_UNAVAILABLE with the cause) on gatehouse:error,
// to onError and through the gateway's logger, and its recovery once, however many retries fail
// meanwhile; the client keeps the last known endpoints.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { dnsResolver, etcdResolver, type Resolver } from '@gatehousejs/discovery';
import { gateway } from '@gatehousejs/express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Dnsmasq,
  DOMAIN,
  dnsmasqMissing,
  startDnsmasq,
} from '../../packages/discovery/src/test-dnsmasq.js';
import { type EtcdServer, etcdMissing, startEtcd } from '../../packages/discovery/src/test-etcd.js';
import { ON_CI } from '../../packages/discovery/src/test-support.js';

interface Logged {
  level: 'error' | 'info';
  msg: string;
  phase: string | undefined;
  cause: unknown;
}

/** A gateway with a recording logger, `onError` and channel subscriber; its client uses `resolver`. */
function watched(resolver: Resolver) {
  const logged: Logged[] = [];
  const reported: string[] = [];
  const published: string[] = [];
  const gw = gateway(
    {},
    {
      logger: {
        error: (obj, msg) => logged.push(entry('error', obj, msg)),
        info: (obj, msg) => logged.push(entry('info', obj, msg)),
      },
      onError: (error, { phase }) => reported.push(`${phase} ${(error as { code?: string }).code}`),
    },
  );
  const listener = (message: unknown) => {
    const { error, phase } = message as { error: { code?: string }; phase: string };
    if (phase.startsWith('dependency:')) published.push(`${phase} ${error.code}`);
  };
  subscribe('gatehouse:error', listener);
  const client = gw.client('orders', { resolver });
  return {
    logged,
    reported,
    published,
    client,
    async close() {
      unsubscribe('gatehouse:error', listener);
      await gw.close({ deadlineMs: 500 });
      await resolver.close();
    },
  };
}

function entry(level: Logged['level'], obj: object, msg: string): Logged {
  const { phase, err } = obj as { phase?: string; err?: { cause?: unknown } };
  return { level, msg, phase, cause: err?.cause };
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const noEtcd = etcdMissing();
describe.skipIf(noEtcd !== undefined && !ON_CI)('an etcd cluster that goes away', () => {
  let etcd: EtcdServer;
  beforeAll(async () => {
    if (noEtcd !== undefined) throw new Error(`CI=true and ${noEtcd}`);
    etcd = await startEtcd();
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it('is reported once with its cause while the resolver retries, and its return once', async () => {
    const prefix = '/outages/orders/';
    await etcd.put(`${prefix}a`, JSON.stringify({ host: '127.0.0.1', port: 4101 }));
    const resolver = etcdResolver({
      hosts: etcd.url,
      prefix,
      retryInitialMs: 50,
      retryMaxMs: 200,
      timeoutMs: 500,
    });
    const gw = watched(resolver);
    try {
      await resolver.ready();
      expect(resolver.current().map((e) => e.id)).toEqual(['a']);
      await etcd.kill();
      await until('the outage report', () => gw.reported.length > 0);
      // Several retries fail meanwhile: still one report.
      await sleep(1_000);
      expect(gw.reported).toEqual(['dependency:etcd GH_DEPENDENCY_UNAVAILABLE']);
      expect(gw.published).toEqual(gw.reported);
      expect(gw.logged.map((l) => [l.level, l.phase])).toEqual([['error', 'dependency:etcd']]);
      expect(gw.logged[0]!.msg).toMatch(
        /^etcd etcd:\/outages\/orders\/ is unavailable: etcd \/outages\/orders\/: /,
      );
      expect(gw.logged[0]!.cause).toBeInstanceOf(Error);
      // The last known endpoints stay.
      expect(resolver.current().map((e) => e.id)).toEqual(['a']);

      await etcd.start();
      await until('the recovery report', () => gw.reported.length > 1);
      await sleep(300);
      expect(gw.reported).toEqual([
        'dependency:etcd GH_DEPENDENCY_UNAVAILABLE',
        'dependency:etcd GH_DEPENDENCY_RECOVERED',
      ]);
      expect(gw.logged.map((l) => l.level)).toEqual(['error', 'info']);
      expect(gw.published).toEqual(gw.reported);
    } finally {
      await gw.close();
    }
  }, 30_000);
});

const noDnsmasq = dnsmasqMissing();
describe.skipIf(noDnsmasq !== undefined && !ON_CI)('a DNS server that goes away', () => {
  let dns: Dnsmasq;
  const name = `orders.${DOMAIN}`;
  beforeAll(async () => {
    if (noDnsmasq !== undefined) throw new Error(`CI=true and ${noDnsmasq}`);
    dns = await startDnsmasq({ hosts: [{ name, addresses: ['127.0.0.1'] }] });
  });
  afterAll(async () => {
    await dns?.stop();
  });

  it('is reported once with its cause while the resolver retries, and its return once', async () => {
    const resolver = dnsResolver({
      name,
      type: 'A',
      port: 4102,
      servers: [dns.server],
      minTtlMs: 50,
      timeoutMs: 200,
      retryInitialMs: 30,
      retryMaxMs: 100,
    });
    const gw = watched(resolver);
    try {
      await resolver.ready();
      expect(resolver.current().map((e) => e.id)).toEqual(['127.0.0.1:4102']);
      await dns.kill();
      await until('the outage report', () => gw.reported.length > 0);
      await sleep(800);
      expect(gw.reported).toEqual(['dependency:dns GH_DEPENDENCY_UNAVAILABLE']);
      expect(gw.published).toEqual(gw.reported);
      expect(gw.logged.map((l) => [l.level, l.phase])).toEqual([['error', 'dependency:dns']]);
      expect(gw.logged[0]!.msg).toMatch(
        new RegExp(`^dns dns:${name.replace(/\./g, '\\.')} \\(A\\) is unavailable: `),
      );
      expect(gw.logged[0]!.cause).toBeInstanceOf(Error);
      expect(resolver.current().map((e) => e.id)).toEqual(['127.0.0.1:4102']);

      await dns.restart();
      await until('the recovery report', () => gw.reported.length > 1);
      await sleep(300);
      expect(gw.reported).toEqual([
        'dependency:dns GH_DEPENDENCY_UNAVAILABLE',
        'dependency:dns GH_DEPENDENCY_RECOVERED',
      ]);
      expect(gw.logged.map((l) => l.level)).toEqual(['error', 'info']);
    } finally {
      await gw.close();
    }
  }, 30_000);
});

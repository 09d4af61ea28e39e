import { ConfigError } from '@gatehousejs/core';
import type { Answer } from 'dns-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dnsResolver, type Endpoint, preferredEndpoints, type Resolver } from './index.js';
import { a, type ScriptedDns, srv, startScriptedDns } from './test-dns-server.js';
import { type Dnsmasq, type DnsmasqRecords, DOMAIN, dnsmasqMissing, startDnsmasq } from './test-dnsmasq.js';
import { freePort, ON_CI, waitFor } from './test-support.js';

const open: Resolver[] = [];
const track = (resolver: Resolver) => {
  open.push(resolver);
  return resolver;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

const ids = (list: readonly Endpoint[]) => list.map((e) => e.id);
/** The sockets and timers of this process, as a comparable string. */
const handles = () =>
  process
    .getActiveResourcesInfo()
    .filter((r) => ['UDPWrap', 'TCPSocketWrap', 'TCPWrap', 'Timeout'].includes(r))
    .sort()
    .join(',');
/** Resolves once `resolver`'s last error has `code` (and returns the status then). */
const failsWith = (resolver: Resolver, code: string) =>
  waitFor(`${resolver.name} to fail with ${code}`, () => {
    const status = resolver.status();
    return (status.lastError as { code?: string } | undefined)?.code === code && status;
  });
const recovers = (resolver: Resolver) =>
  waitFor(`${resolver.name} to recover`, () => !resolver.status().stale && resolver.status());

// ---------------------------------------------------------------------------------------------------
// A scripted server: the faults and timings a real server does not produce on demand.

describe('dnsResolver against a scripted DNS server', () => {
  let dns: ScriptedDns;
  beforeAll(async () => {
    dns = await startScriptedDns(() => 'drop');
  });
  afterAll(async () => {
    await dns.close();
  });

  const NAME = '_http._tcp.orders.test';
  const healthy = (ttl = 0): { answers: Answer[]; additionals: Answer[] } => ({
    answers: [srv(NAME, 'n1.test', 8081, 10, 60, ttl), srv(NAME, 'n2.test', 8082, 10, 40, ttl)],
    additionals: [a('n1.test', '127.0.0.11', ttl), a('n2.test', '127.0.0.12', ttl)],
  });

  it('refreshes when the TTL runs out, bounded by minTtlMs and maxTtlMs', async () => {
    dns.script = ({ name }) => {
      const ttl = name.startsWith('one') ? 1 : name.startsWith('zero') ? 0 : 3600;
      return {
        answers: [srv(name, 'n1.test', 80, 0, 0, ttl)],
        additionals: [a('n1.test', '127.0.0.1', ttl)],
      };
    };
    const common = { servers: [dns.server], maxTtlMs: 30_000, minTtlMs: 100 };
    track(dnsResolver({ ...common, name: 'one.ttl.test' })); // TTL 1 s
    track(dnsResolver({ ...common, name: 'zero.ttl.test', minTtlMs: 250 })); // TTL 0 (Consul's default)
    track(dnsResolver({ ...common, name: 'long.ttl.test', maxTtlMs: 400 })); // TTL 1 h
    const times = (prefix: string) => dns.queries.filter((q) => q.name.startsWith(prefix)).map((q) => q.at);
    await waitFor('three refreshes of the 1 s TTL', () => times('one').length >= 3, { timeoutMs: 5_000 });
    const gaps = (prefix: string) => {
      const list = times(prefix);
      return list.slice(1).map((t, i) => t - list[i]!);
    };
    const within = (list: number[], low: number, high: number) =>
      list.every((gap) => gap >= low && gap < high) || list;
    expect(within(gaps('one'), 950, 2_000)).toBe(true);
    expect(gaps('zero').length).toBeGreaterThanOrEqual(3);
    expect(within(gaps('zero'), 240, 900)).toBe(true);
    expect(gaps('long').length).toBeGreaterThanOrEqual(2);
    expect(within(gaps('long'), 390, 1_300)).toBe(true);
  });

  it('SERVFAIL, silence, NODATA and NXDOMAIN never empty a healthy pool; it recovers when answers return', async () => {
    dns.script = () => healthy();
    const resolver = track(
      dnsResolver({
        name: NAME,
        servers: [dns.server],
        minTtlMs: 30,
        timeoutMs: 100,
        retryInitialMs: 20,
        retryMaxMs: 40,
      }),
    );
    const pool = await resolver.ready();
    expect(ids(pool)).toEqual(['127.0.0.11:8081', '127.0.0.12:8082']);
    const changes: Array<readonly Endpoint[]> = [];
    resolver.subscribe((list) => changes.push(list));

    const faults: Array<[string, () => ReturnType<ScriptedDns['script']>]> = [
      ['GH_DISCOVERY_DNS_SERVER_FAILURE', () => ({ rcode: 'SERVFAIL' })],
      ['GH_DISCOVERY_DNS_TIMEOUT', () => 'drop'],
      ['GH_DISCOVERY_DNS_NO_RECORDS', () => ({ answers: [] })],
      ['GH_DISCOVERY_DNS_NXDOMAIN', () => ({ rcode: 'NXDOMAIN' })],
      ['GH_DISCOVERY_DNS_SERVER_FAILURE', () => ({ rcode: 'REFUSED' })],
    ];
    for (const [code, script] of faults) {
      dns.script = script;
      const status = await failsWith(resolver, code);
      expect(status.stale).toBe(true);
      expect(resolver.current()).toBe(pool);
    }
    const failedAt = resolver.status().lastSuccessAt!;
    dns.script = () => healthy();
    const status = await recovers(resolver);
    expect(status.lastError).toBeUndefined();
    expect(status.lastSuccessAt).toBeGreaterThan(failedAt);
    expect(resolver.current()).toBe(pool);
    expect(changes).toEqual([]);
  });

  it('asks again over TCP when the UDP reply is truncated', async () => {
    dns.script = () => ({ ...healthy(30), truncate: true });
    const before = dns.queries.length;
    const resolver = track(dnsResolver({ name: NAME, servers: [dns.server] }));
    expect(ids(await resolver.ready())).toEqual(['127.0.0.11:8081', '127.0.0.12:8082']);
    expect(dns.queries.slice(before).map((q) => q.transport)).toEqual(['udp', 'tcp']);
  });

  it('ignores a forged reply (wrong id) that arrives first', async () => {
    dns.script = () => ({ ...healthy(30), forged: [srv(NAME, 'evil.test', 6666, 0, 100)] });
    const resolver = track(dnsResolver({ name: NAME, servers: [dns.server] }));
    expect(ids(await resolver.ready())).toEqual(['127.0.0.11:8081', '127.0.0.12:8082']);
    expect(resolver.status().stale).toBe(false);
  });

  it('does not report records that merely arrive in another order as a change', async () => {
    let turn = 0;
    dns.script = () => {
      const { answers, additionals } = healthy();
      turn++;
      return {
        answers: turn % 2 ? answers : answers.reverse(),
        additionals: turn % 2 ? additionals.reverse() : additionals,
      };
    };
    const resolver = track(dnsResolver({ name: NAME, servers: [dns.server], minTtlMs: 20 }));
    const first = await resolver.ready();
    let changes = 0;
    resolver.subscribe(() => changes++);
    const start = turn;
    await waitFor('six more answers', () => turn >= start + 6);
    expect(changes).toBe(0);
    expect(resolver.current()).toBe(first);
  });

  it('resolves SRV targets by query when the reply has no addresses; a failing target keeps its last ones', async () => {
    let n2: 'ok' | 'fail' | 'gone' = 'ok';
    let srvDown = false;
    dns.script = ({ name, type }) => {
      if (type === 'SRV') {
        if (srvDown) return { rcode: 'SERVFAIL' };
        return {
          answers: [
            srv(NAME, 'n1.test', 8081, 10, 0),
            srv(NAME, 'n2.test', 8082, 10, 5),
            srv(NAME, 'backup.test', 9000, 20, 0),
          ],
        };
      }
      if (type === 'AAAA') return { answers: [] };
      if (name === 'n1.test') return { answers: [a(name, '127.0.0.11')] };
      if (name === 'backup.test') return { answers: [a(name, '127.0.0.30')] };
      if (n2 === 'ok') return { answers: [a(name, '127.0.0.12'), a(name, '127.0.0.13')] };
      return { rcode: n2 === 'fail' ? 'SERVFAIL' : 'NXDOMAIN' };
    };
    const resolver = track(
      dnsResolver({
        name: NAME,
        servers: [dns.server],
        minTtlMs: 20,
        maxTtlMs: 50,
        retryInitialMs: 20,
        retryMaxMs: 40,
      }),
    );
    const pool = await resolver.ready();
    const view = (list: readonly Endpoint[]) => list.map((e) => [e.id, e.weight, e.priority, e.hostname]);
    expect(view(pool)).toEqual([
      // RFC 2782: weight 0 beside a positive weight is a very small share; alone in its priority, an equal one.
      ['127.0.0.11:8081', 0.001, 10, 'n1.test'],
      // n2's weight of 5 is shared by its two addresses.
      ['127.0.0.12:8082', 2.5, 10, 'n2.test'],
      ['127.0.0.13:8082', 2.5, 10, 'n2.test'],
      ['127.0.0.30:9000', 1, 20, 'backup.test'],
    ]);
    expect(ids(preferredEndpoints(pool))).toEqual(['127.0.0.11:8081', '127.0.0.12:8082', '127.0.0.13:8082']);

    n2 = 'fail';
    await failsWith(resolver, 'GH_DISCOVERY_DNS_SERVER_FAILURE');
    expect(resolver.current()).toBe(pool);
    // The SRV query itself fails for a while, then answers again while n2 still fails: n2's last
    // addresses must have outlived the whole-answer failure.
    const srvQueries = () => dns.queries.filter((q) => q.type === 'SRV').length;
    srvDown = true;
    const downAt = srvQueries();
    await waitFor('failed SRV refreshes', () => srvQueries() >= downAt + 2);
    srvDown = false;
    const upAt = srvQueries();
    await waitFor('answered SRV refreshes', () => srvQueries() >= upAt + 2);
    expect(resolver.current()).toBe(pool);

    // NXDOMAIN for one target while the others resolve: that target is gone, and nothing is stale.
    n2 = 'gone';
    const changed = await waitFor(
      'n2 to be dropped',
      () => resolver.current().length === 2 && resolver.current(),
    );
    expect(ids(changed)).toEqual(['127.0.0.11:8081', '127.0.0.30:9000']);
    await recovers(resolver);
  });

  it('asks the next server when one is unreachable or silent', async () => {
    dns.script = ({ name }) => (name === NAME ? healthy(30) : 'drop');
    const silent = await startScriptedDns(() => 'drop');
    try {
      const closed = `127.0.0.1:${await freePort()}`; // nothing listens: ICMP port unreachable
      const resolver = track(
        dnsResolver({ name: NAME, servers: [closed, silent.server, dns.server], timeoutMs: 150 }),
      );
      const started = Date.now();
      expect(ids(await resolver.ready())).toEqual(['127.0.0.11:8081', '127.0.0.12:8082']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140); // it did wait for the silent one
      expect(silent.queries).toHaveLength(1);
      expect(resolver.status().stale).toBe(false);
    } finally {
      await silent.close();
    }
  });

  it('close() before the first answer rejects ready(), stops at once and leaves no handle behind', async () => {
    dns.script = () => 'drop';
    // Handles that earlier set-up closed may still be listed for a moment: start from a settled view.
    let previous = '';
    const before = await waitFor('handles to settle', async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      const now = handles();
      const settled = now === previous;
      previous = now;
      return settled && now;
    });
    const resolver = dnsResolver({ name: NAME, servers: [dns.server], timeoutMs: 5_000 });
    await waitFor('the query to be sent', () => dns.queries.at(-1)?.at !== undefined);
    const started = Date.now();
    await resolver.close();
    expect(Date.now() - started).toBeLessThan(500);
    await expect(resolver.ready()).rejects.toMatchObject({ code: 'GH_DISCOVERY_CLOSED' });
    // Sockets finish closing a moment later; a leaked socket or timer never would.
    await waitFor('sockets and timers to be released', () => handles() === before || undefined, {
      timeoutMs: 1_000,
    });
  });

  it('validates its options once, listing every problem', () => {
    try {
      dnsResolver({
        name: 'bad name!',
        type: 'A',
        protocol: 'ftp:' as never,
        servers: ['not-an-ip', '10.0.0.1:99999'],
        minTtlMs: 5_000,
        maxTtlMs: 1_000,
        timeoutMs: 0,
        srvTargets: 'A',
        retry: 3,
      } as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
        // A problem of a key not given (port) comes first, with the options object's own; then the
        // order the options were written in.
        "dnsResolver.port: is required for type 'A'",
        "dnsResolver.name: is not a DNS name: 'bad name!'",
        "dnsResolver.protocol: expected one of 'http:', 'https:', 'http' or 'https', received the string 'ftp:' — did you mean 'http:'?",
        'dnsResolver.servers[0]: is not an IP address with an optional port: "not-an-ip"',
        'dnsResolver.servers[1]: is not an IP address with an optional port: "10.0.0.1:99999"',
        'dnsResolver.minTtlMs: must not exceed maxTtlMs (1000)',
        'dnsResolver.timeoutMs: expected a number > 0, received the number 0',
        'dnsResolver.srvTargets: applies to SRV lookups only',
        'dnsResolver.retry: unknown option; expected one of name, type, port, protocol, srvTargets, servers, minTtlMs, maxTtlMs, timeoutMs, retryInitialMs, retryMaxMs',
      ]);
    }
    expect(() => dnsResolver({ name: '_x._tcp.test', port: 80, servers: ['127.0.0.1'] })).toThrow(
      /port: is not used with SRV/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// dnsmasq: a real server, answering as the ones in production do (unordered SRV answers, addresses
// in the additional section, NXDOMAIN for unknown names in its domain).

const missing = dnsmasqMissing();

describe.skipIf(missing !== undefined && !ON_CI)('dnsResolver against dnsmasq', () => {
  const SERVICE = `_http._tcp.orders.${DOMAIN}`;
  const node = (n: number) => `node${n}.${DOMAIN}`;
  const records: DnsmasqRecords = {
    ttl: 1,
    srv: [
      { name: SERVICE, target: node(1), port: 8081, priority: 10, weight: 60 },
      { name: SERVICE, target: node(2), port: 8082, priority: 10, weight: 40 },
      { name: SERVICE, target: node(3), port: 8083, priority: 20, weight: 0 },
    ],
    hosts: [
      { name: node(1), addresses: ['127.0.0.11'] },
      { name: node(2), addresses: ['127.0.0.12', '::1'] },
      { name: node(3), addresses: ['127.0.0.13'] },
      { name: node(4), addresses: ['127.0.0.14'] },
      { name: `api.${DOMAIN}`, addresses: ['127.0.0.21', '127.0.0.22', '::2'] },
    ],
  };
  let dnsmasq: Dnsmasq;
  beforeAll(async () => {
    if (missing !== undefined) throw new Error(`CI=true and ${missing}`);
    dnsmasq = await startDnsmasq(records);
  });
  afterAll(async () => {
    await dnsmasq?.stop();
  });
  const fast = () => ({
    servers: [dnsmasq.server],
    minTtlMs: 50,
    timeoutMs: 300,
    retryInitialMs: 30,
    retryMaxMs: 60,
  });

  it('SRV: priority and weight from the records, addresses from the additional section', async () => {
    const resolver = track(dnsResolver({ name: SERVICE, servers: [dnsmasq.server] }));
    const list = await resolver.ready();
    expect(list).toEqual([
      {
        id: '127.0.0.11:8081',
        protocol: 'http:',
        host: '127.0.0.11',
        port: 8081,
        weight: 60,
        priority: 10,
        hostname: node(1),
      },
      {
        id: '127.0.0.12:8082',
        protocol: 'http:',
        host: '127.0.0.12',
        port: 8082,
        weight: 20,
        priority: 10,
        hostname: node(2),
      },
      {
        id: '127.0.0.13:8083',
        protocol: 'http:',
        host: '127.0.0.13',
        port: 8083,
        weight: 1,
        priority: 20,
        hostname: node(3),
      },
      {
        id: '[::1]:8082',
        protocol: 'http:',
        host: '::1',
        port: 8082,
        weight: 20,
        priority: 10,
        hostname: node(2),
      },
    ]);
    expect(ids(preferredEndpoints(list))).toEqual(['127.0.0.11:8081', '127.0.0.12:8082', '[::1]:8082']);
    expect(resolver.status()).toMatchObject({ stale: false });

    const v4 = track(
      dnsResolver({ name: SERVICE, servers: [dnsmasq.server], srvTargets: 'A', protocol: 'https' }),
    );
    expect((await v4.ready()).map((e) => [e.id, e.weight, e.protocol])).toEqual([
      ['127.0.0.11:8081', 60, 'https:'],
      ['127.0.0.12:8082', 40, 'https:'],
      ['127.0.0.13:8083', 1, 'https:'],
    ]);
    const names = track(dnsResolver({ name: SERVICE, servers: [dnsmasq.server], srvTargets: 'hostname' }));
    expect((await names.ready()).map((e) => [e.id, e.host, e.hostname])).toEqual([
      [`${node(1)}:8081`, node(1), undefined],
      [`${node(2)}:8082`, node(2), undefined],
      [`${node(3)}:8083`, node(3), undefined],
    ]);
  });

  it('A, AAAA and A+AAAA: every address of the name on the given port', async () => {
    const name = `api.${DOMAIN}`;
    const both = track(
      dnsResolver({ name, type: 'A+AAAA', port: 8443, protocol: 'https:', servers: [dnsmasq.server] }),
    );
    expect(ids(await both.ready())).toEqual(['127.0.0.21:8443', '127.0.0.22:8443', '[::2]:8443']);
    expect(both.current()[0]).toMatchObject({ hostname: name, weight: 1, priority: 0, protocol: 'https:' });
    const v4 = track(dnsResolver({ name, type: 'A', port: 80, servers: [dnsmasq.server] }));
    expect(ids(await v4.ready())).toEqual(['127.0.0.21:80', '127.0.0.22:80']);
    const v6 = track(dnsResolver({ name, type: 'AAAA', port: 80, servers: [dnsmasq.server] }));
    expect(ids(await v6.ready())).toEqual(['[::2]:80']);
    // node4 has no AAAA record: A+AAAA is still a success with its A record.
    const single = track(dnsResolver({ name: node(4), type: 'A+AAAA', port: 80, servers: [dnsmasq.server] }));
    expect(ids(await single.ready())).toEqual(['127.0.0.14:80']);
    expect(single.status().stale).toBe(false);
  });

  it('follows record changes at the TTL and tells subscribers which endpoint left', async () => {
    const resolver = track(dnsResolver({ name: SERVICE, srvTargets: 'A', ...fast() }));
    expect(ids(await resolver.ready())).toEqual(['127.0.0.11:8081', '127.0.0.12:8082', '127.0.0.13:8083']);
    const told: string[][] = [];
    resolver.subscribe((list) => told.push(ids(list)));
    // node1 leaves, node4 joins (dnsmasq restarts to change SRV records).
    await dnsmasq.restart({
      ...records,
      srv: [
        ...records.srv!.filter((r) => r.target !== node(1)),
        { name: SERVICE, target: node(4), port: 8084, priority: 10, weight: 10 },
      ],
    });
    const changedAt = Date.now();
    await waitFor('the change to be told', () => told.length > 0, { timeoutMs: 5_000 });
    expect(Date.now() - changedAt).toBeLessThan(2_500); // within the 1 s TTL, plus a retry if the restart was seen
    expect(told).toEqual([['127.0.0.12:8082', '127.0.0.13:8083', '127.0.0.14:8084']]);
    await dnsmasq.restart(records);
  });

  it('keeps the pool, stale, while the DNS server is gone, and recovers when it returns', async () => {
    const resolver = track(dnsResolver({ name: SERVICE, srvTargets: 'A', ...fast() }));
    const pool = await resolver.ready();
    let changes = 0;
    resolver.subscribe(() => changes++);
    await dnsmasq.kill();
    const status = await waitFor(
      'the resolver to notice',
      () => resolver.status().stale && resolver.status(),
    );
    expect(['GH_DISCOVERY_DNS_UNREACHABLE', 'GH_DISCOVERY_DNS_TIMEOUT']).toContain(
      (status.lastError as { code?: string }).code,
    );
    // Several failed refreshes later, still the same pool.
    const failedSince = Date.now();
    await waitFor('more failed refreshes', () => Date.now() - failedSince > 300);
    expect(resolver.current()).toBe(pool);
    await dnsmasq.restart();
    await recovers(resolver);
    expect(resolver.current()).toBe(pool);
    expect(changes).toBe(0);
  });

  it('keeps the pool when the name is suddenly NXDOMAIN', async () => {
    const resolver = track(dnsResolver({ name: SERVICE, srvTargets: 'A', ...fast() }));
    const pool = await resolver.ready();
    await dnsmasq.restart({ ...records, srv: [] });
    await failsWith(resolver, 'GH_DISCOVERY_DNS_NXDOMAIN');
    expect(resolver.current()).toBe(pool);
    await dnsmasq.restart(records);
    await recovers(resolver);
    expect(resolver.current()).toBe(pool);
  });
});

// Test support (not built into dist): a private dnsmasq serving SRV and A/AAAA records on a free
// loopback port, authoritative for gatehouse.test (unknown names there get NXDOMAIN). dnsmasq does not
// reload --srv-host on SIGHUP, so changing records means restarting it on the same port.
import { Resolver } from 'node:dns/promises';
import { type Child, freePort, missingBinary, startChild, waitFor } from './test-support.js';

export const DNSMASQ_BINARY = '/usr/sbin/dnsmasq';
export const DOMAIN = 'gatehouse.test';

/** Why dnsmasq tests cannot run here; undefined when they can. */
export const dnsmasqMissing = (): string | undefined => missingBinary(DNSMASQ_BINARY, 'dnsmasq');

export interface DnsmasqRecords {
  /** The TTL of every record (dnsmasq's --local-ttl). @default 1 */
  ttl?: number;
  srv?: ReadonlyArray<{ name: string; target: string; port: number; priority?: number; weight?: number }>;
  /** A and AAAA records: each name with its IPv4 and IPv6 addresses. */
  hosts?: ReadonlyArray<{ name: string; addresses: readonly string[] }>;
}

export interface Dnsmasq {
  readonly port: number;
  /** `127.0.0.1:<port>`, for dnsResolver's `servers`. */
  readonly server: string;
  /** Starts again on the same port, with `records` (or the last ones). */
  restart(records?: DnsmasqRecords): Promise<void>;
  /** SIGKILL: the server is gone; queries to its port meet ICMP port unreachable. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

function args(port: number, records: DnsmasqRecords): string[] {
  const list = [
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    '--conf-file=/dev/null',
    '--pid-file=',
    '--keep-in-foreground',
    '--user=root',
    `--local-ttl=${records.ttl ?? 1}`,
    // Authoritative for the test domain: names it does not know there are NXDOMAIN, not REFUSED.
    `--local=/${DOMAIN}/`,
    // Always present, so readiness can be probed whatever the records are.
    `--host-record=probe.${DOMAIN},127.0.0.1`,
  ];
  for (const srv of records.srv ?? []) {
    list.push(`--srv-host=${srv.name},${srv.target},${srv.port},${srv.priority ?? 0},${srv.weight ?? 0}`);
  }
  for (const host of records.hosts ?? []) {
    // One --host-record per address: dnsmasq takes at most one IPv4 and one IPv6 per line.
    for (const address of host.addresses) list.push(`--host-record=${host.name},${address}`);
  }
  return list;
}

export async function startDnsmasq(initial: DnsmasqRecords): Promise<Dnsmasq> {
  const port = await freePort();
  const server = `127.0.0.1:${port}`;
  let records = initial;
  let child: Child | undefined;

  const start = async () => {
    const current = startChild(DNSMASQ_BINARY, args(port, records));
    child = current;
    const probe = new Resolver({ timeout: 200, tries: 1 });
    probe.setServers([server]);
    await waitFor(
      `dnsmasq on ${server}`,
      async () => {
        if (current.process.exitCode !== null) throw new Error(`dnsmasq exited:\n${current.output()}`);
        return (await probe.resolve4(`probe.${DOMAIN}`)).includes('127.0.0.1');
      },
      { timeoutMs: 5_000, intervalMs: 20 },
    );
  };

  await start();
  return {
    port,
    server,
    async restart(next) {
      await child?.kill();
      if (next !== undefined) records = next;
      await start();
    },
    async kill() {
      await child?.kill();
    },
    async stop() {
      await child?.kill();
    },
  };
}

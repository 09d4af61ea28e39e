// A small stub resolver over UDP (and TCP when a reply is truncated) built on dns-packet. It exists
// because Node's dns.Resolver hides the TTL of SRV records, and discovery must refresh by TTL; using it
// for A/AAAA too gives one code path, one timeout rule and one error classification for every query.
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { getServers } from 'node:dns';
import { connect, isIP } from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from 'dns-packet';
import { DnsNotFound, DnsServerFailure, DnsTimeout, DnsUnreachable } from './errors.js';

/** Where to send queries. */
export interface DnsServer {
  readonly host: string;
  readonly port: number;
}

/** The record types discovery asks for. */
export type QueryType = 'SRV' | 'A' | 'AAAA';

/** The sections of a NOERROR reply that discovery reads. */
export interface DnsReply {
  readonly answers: readonly Answer[];
  readonly additionals: readonly Answer[];
  /** `host:port` of the server that answered, for messages. */
  readonly server: string;
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
// RFC 8914's DNS Flag Day 2020 size: large enough for dozens of SRV records, small enough never to
// fragment. Larger answers come back truncated and are fetched again over TCP.
const UDP_PAYLOAD = 1232;

/**
 * Reads `'10.0.0.2'`, `'10.0.0.2:5353'`, `'::1'`, `'[::1]:5353'` (the forms `dns.getServers()`
 * returns); undefined when the text is none of them.
 */
export function parseServer(text: string): DnsServer | undefined {
  if (typeof text !== 'string') return undefined;
  let host = text;
  let port = 53;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed !== null) {
    host = bracketed[1]!;
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (isIP(text) === 0) {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = text.slice(0, colon);
    port = Number(text.slice(colon + 1));
    if (!/^\d+$/.test(text.slice(colon + 1))) return undefined;
  }
  if (isIP(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host, port };
}

/** The servers of the host's configuration (/etc/resolv.conf), as Node reads them. */
export function systemServers(): DnsServer[] {
  return getServers()
    .map(parseServer)
    .filter((server): server is DnsServer => server !== undefined);
}

function label(server: DnsServer): string {
  return isIP(server.host) === 6 ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

/**
 * Asks `servers` in order for `type` records of `name`, each within `timeoutMs`, and returns the
 * first NOERROR reply (which may hold no answer: NODATA). A server that times out, fails or
 * cannot be reached passes the question to the next one; NXDOMAIN is the name's authoritative
 * absence and ends the search.
 *
 * @throws DnsNotFound (NXDOMAIN), DnsServerFailure, DnsTimeout or DnsUnreachable — the last
 *   failure when every server failed; an AbortError when `signal` fires.
 */
export async function queryDns(
  name: string,
  type: QueryType,
  options: { servers: readonly DnsServer[]; timeoutMs: number; signal?: AbortSignal },
): Promise<DnsReply> {
  let lastError: Error = new DnsUnreachable('no DNS server is configured');
  for (const server of options.servers) {
    options.signal?.throwIfAborted();
    try {
      let reply = await exchange(server, name, type, 'udp', options);
      if (reply.flag_tc) reply = await exchange(server, name, type, 'tcp', options);
      const rcode = RCODES[(reply.flags ?? 0) & 0xf] ?? `RCODE${(reply.flags ?? 0) & 0xf}`;
      if (rcode === 'NOERROR') {
        return { answers: reply.answers ?? [], additionals: reply.additionals ?? [], server: label(server) };
      }
      if (rcode === 'NXDOMAIN') throw new DnsNotFound(`${name} (${type}): NXDOMAIN from ${label(server)}`);
      lastError = new DnsServerFailure(`${name} (${type}): ${rcode} from ${label(server)}`);
    } catch (error) {
      if (error instanceof DnsNotFound || options.signal?.aborted) throw error;
      lastError = error as Error;
    }
  }
  throw lastError;
}

/** One question to one server over one transport; resolves with any well-formed reply to it. */
function exchange(
  server: DnsServer,
  name: string,
  type: QueryType,
  transport: 'udp' | 'tcp',
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<DecodedPacket> {
  // A random id and a fresh (randomly numbered) socket per query are the stub resolver's defence
  // against spoofed replies; a connected socket also drops datagrams from any other address.
  const id = randomInt(0, 65_536);
  const query: Packet = {
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: UDP_PAYLOAD,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        options: [],
      },
    ],
  };
  const where = `${label(server)} over ${transport.toUpperCase()}`;
  return new Promise<DecodedPacket>((resolve, reject) => {
    let close = () => {};
    let done = false;
    const finish = (error: Error | undefined, reply?: DecodedPacket) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      close();
      if (error !== undefined) reject(error);
      else resolve(reply!);
    };
    const onAbort = () => finish(options.signal!.reason as Error);
    const timer = setTimeout(
      () =>
        finish(new DnsTimeout(`${name} (${type}): no answer from ${where} within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const unreachable = (error: Error) =>
      finish(new DnsUnreachable(`${name} (${type}): ${where}: ${error.message}`, { cause: error }));
    const accept = (message: Buffer, decode: (buffer: Buffer) => DecodedPacket) => {
      let reply: DecodedPacket;
      try {
        reply = decode(message);
      } catch {
        return; // not a DNS message: ignore it, as a stub resolver must, and keep waiting
      }
      const question = reply.questions?.[0];
      if (
        reply.id !== id ||
        !reply.flag_qr ||
        question === undefined ||
        question.type !== type ||
        question.name.toLowerCase() !== name.toLowerCase()
      ) {
        return;
      }
      finish(undefined, reply);
    };

    if (transport === 'udp') {
      const socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
      close = () => socket.close();
      socket.on('error', unreachable);
      socket.on('message', (message) => accept(message, (buffer) => dnsPacket.decode(buffer)));
      socket.connect(server.port, server.host, () => {
        socket.send(dnsPacket.encode(query), (error) => {
          if (error) unreachable(error);
        });
      });
      return;
    }
    const socket = connect({ host: server.host, port: server.port });
    close = () => socket.destroy();
    let buffered = Buffer.alloc(0);
    socket.on('error', unreachable);
    socket.on('connect', () => socket.write(dnsPacket.streamEncode(query)));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      accept(
        buffered.subarray(0, 2 + buffered.readUInt16BE(0)),
        (buffer) => dnsPacket.streamDecode(buffer) as DecodedPacket,
      );
      if (!done) finish(new DnsServerFailure(`${name} (${type}): ${where} sent a reply to another question`));
    });
    socket.on('end', () =>
      finish(new DnsServerFailure(`${name} (${type}): ${where} closed without a reply`)),
    );
  });
}

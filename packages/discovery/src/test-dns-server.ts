// Test support (not built into dist): a scripted DNS server on a free loopback port, UDP and TCP, for
// the faults a real server will not produce on demand — SERVFAIL, silence (timeouts), truncation,
// forged replies, records rotated on every answer — and for timing refreshes by the queries it logs.
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import dnsPacket, { type Answer, type Packet } from 'dns-packet';
import { freePort } from './test-support.js';

/** What the server does with one question. */
export type Reply =
  | 'drop'
  | {
      rcode?: 'NOERROR' | 'SERVFAIL' | 'NXDOMAIN' | 'REFUSED';
      answers?: Answer[];
      additionals?: Answer[];
      /** Over UDP: answer with TC set and no records, so the client must ask again over TCP. */
      truncate?: boolean;
      /** Over UDP: first send a reply with the wrong id and these answers (a forgery that must be ignored). */
      forged?: Answer[];
    };

export interface Query {
  readonly name: string;
  readonly type: string;
  readonly transport: 'udp' | 'tcp';
  readonly at: number;
}

export interface ScriptedDns {
  readonly server: string;
  /** Every question received, in order. */
  readonly queries: Query[];
  /** Decides each reply; replace it at any time. */
  script: (question: { name: string; type: string }) => Reply;
  close(): Promise<void>;
}

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

export const srv = (
  name: string,
  target: string,
  port: number,
  priority = 0,
  weight = 0,
  ttl = 30,
): Answer => ({
  type: 'SRV',
  name,
  ttl,
  class: 'IN',
  data: { target, port, priority, weight },
});
export const a = (name: string, address: string, ttl = 30): Answer => ({
  type: 'A',
  name,
  ttl,
  class: 'IN',
  data: address,
});

export async function startScriptedDns(script: ScriptedDns['script']): Promise<ScriptedDns> {
  const port = await freePort();
  const queries: Query[] = [];
  const udp = createSocket('udp4');
  const tcp = createServer();
  const sockets = new Set<Socket>();
  const self: ScriptedDns = {
    server: `127.0.0.1:${port}`,
    queries,
    script,
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all([
        new Promise<void>((done) => udp.close(() => done())),
        new Promise((done) => tcp.close(done)),
      ]);
    },
  };

  const answer = (query: Packet, transport: 'udp' | 'tcp'): Packet[] => {
    const question = query.questions?.[0];
    if (question === undefined) return [];
    queries.push({ name: question.name, type: question.type, transport, at: Date.now() });
    const reply = self.script({ name: question.name, type: question.type });
    if (reply === 'drop') return [];
    const base = {
      type: 'response' as const,
      id: query.id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | RCODE[reply.rcode ?? 'NOERROR'],
      questions: [question],
    };
    if (transport === 'udp' && reply.truncate) {
      return [{ ...base, flags: base.flags | dnsPacket.TRUNCATED_RESPONSE }];
    }
    const real = { ...base, answers: reply.answers ?? [], additionals: reply.additionals ?? [] };
    if (transport === 'udp' && reply.forged) {
      return [{ ...base, id: ((query.id ?? 0) + 1) % 65_536, answers: reply.forged }, real];
    }
    return [real];
  };

  udp.on('message', (message, from) => {
    let query: Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return;
    }
    for (const packet of answer(query, 'udp')) udp.send(dnsPacket.encode(packet), from.port, from.address);
  });
  tcp.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const length = buffered.readUInt16BE(0);
        const query = dnsPacket.decode(buffered.subarray(2, 2 + length));
        buffered = buffered.subarray(2 + length);
        for (const packet of answer(query, 'tcp')) socket.write(dnsPacket.streamEncode(packet));
      }
    });
  });
  udp.bind(port, '127.0.0.1');
  tcp.listen(port, '127.0.0.1');
  await Promise.all([once(udp, 'listening'), once(tcp, 'listening')]);
  return self;
}

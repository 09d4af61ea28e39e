// The outbound-client benchmarks' server: a front server whose handler calls an upstream (started in
// the same process, so both sides pay for it alike) and relays the answer. 'undici' calls it with
// undici.request straight; 'gatehouse' through @gatehousejs/client with discovery (a registry resolver),
// P2C balancing, endpoint circuit breakers, the retry policy with its budget, and outlier ejection.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createClient } from '@gatehousejs/client';
import { createRegistry } from '@gatehousejs/discovery';
import { request } from 'undici';
import { reportListening } from './listening.mjs';

const BODY = JSON.stringify({ hello: 'world' });

/** @param {'undici' | 'gatehouse'} kind */
export async function startClientBench(kind) {
  const upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
    res.end(BODY);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const port = /** @type {import('node:net').AddressInfo} */ (upstream.address()).port;
  const origin = `http://127.0.0.1:${port}`;

  /** @type {() => Promise<{ statusCode: number, body: { text(): Promise<string> } }>} */
  let call;
  if (kind === 'undici') {
    call = () => request(`${origin}/hello`);
  } else {
    const registry = createRegistry();
    registry.register('hello', { host: '127.0.0.1', port, protocol: 'http:' });
    const client = createClient({ name: 'hello', resolver: registry.resolver('hello') });
    call = () => client.request({ path: '/hello' });
  }

  const front = createServer(async (_req, res) => {
    try {
      const answer = await call();
      const text = await answer.body.text();
      res.writeHead(answer.statusCode, { 'content-type': 'application/json' });
      res.end(text);
    } catch (error) {
      res.writeHead(502);
      res.end(String(error));
    }
  });
  reportListening(front.listen(0, '127.0.0.1'));
}

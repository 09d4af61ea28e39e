// Issue 18's coalescing bar is a count, not a rate: 100 concurrent identical GETs reaching the gateway
// make one upstream call. This starts an upstream that answers after 50 ms and counts its requests, an
// Express gateway with a composition (coalescing on, its default) and a route through the response
// cache, sends 100 identical requests at once to each, and prints what reached the upstream — beside
// the same through a plain proxied route (no coalescing), which is what the bar saves.
//
//   node bench/coalesce-count.mjs        (needs `npm run build`: it imports the packages' dist)
import { once } from 'node:events';
import { createServer } from 'node:http';
import { gateway } from '@gatehousejs/express';
import express from 'express';
import { Pool } from 'undici';

let hits = 0;
const upstream = createServer((_req, res) => {
  hits++;
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
    res.end('{"hello":"world"}');
  }, 50);
});
upstream.listen(0, '127.0.0.1');
await once(upstream, 'listening');
const origin = `http://127.0.0.1:${upstream.address().port}`;

const gw = gateway({ services: { up: { url: origin } } });
const app = express();
app.use(gw.aggregate({ path: '/screen', calls: { hello: { service: 'up', path: '/hello' } } }));
app.use(
  gw.routes({
    table: [
      { name: 'cached', path: '/cached/*', service: 'up', mode: 'remote', cache: true },
      { name: 'plain', path: '/plain/*', service: 'up', mode: 'remote' },
    ],
  }),
);
app.use(gw.errors());
const server = app.listen(0, '127.0.0.1');
gw.serve(server);
await once(server, 'listening');
const pool = new Pool(`http://127.0.0.1:${server.address().port}`, { connections: 100 });

async function burst(path) {
  const before = hits;
  const answers = await Promise.all(
    Array.from({ length: 100 }, async () => {
      const res = await pool.request({ method: 'GET', path });
      await res.body.text();
      return res.statusCode;
    }),
  );
  if (answers.some((s) => s !== 200)) throw new Error(`${path}: not every answer was 200`);
  return hits - before;
}

// Connections first, so the 100 requests of a burst really are concurrent.
await Promise.all(
  Array.from({ length: 100 }, () =>
    pool.request({ method: 'GET', path: '/nowhere' }).then((r) => r.body.dump()),
  ),
);
const result = {
  bench: 'coalesce-count',
  node: process.version,
  composition: await burst('/screen'),
  cachedRoute: await burst('/cached/a'),
  plainRoute: await burst('/plain/a'),
};
console.log(JSON.stringify(result));
await pool.close();
await gw.close();
upstream.close();

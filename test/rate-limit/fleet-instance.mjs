// One gateway process of a fleet, as a team would deploy several behind a load balancer: Express 5 or
// 4, Koa 3 or 2 (the aliases express4 and koa2 of the test workspace) with one gw.rateLimit() on a
// Redis shared with the others. It imports the packages by name, as
// a user would (their built dist/), prints {"port":N,"pid":N} once its Redis client is ready, serves
// its limiter's stats on GET /__stats (not limited), and exits when its parent closes stdin or sends
// SIGTERM. Usage: node fleet-instance.mjs '<JSON config>' (see test/rate-limit/fleet.ts).
import { once } from 'node:events';
import { createServer } from 'node:http';

const config = JSON.parse(process.argv[2] ?? '{}');
const { framework, url, name, prefix, points, duration, key, instances, timeoutMs } = config;

const { redisStore } = await import('@gatehousejs/rate-limit');
const store = redisStore({ url, instances, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
const options = { name, prefix, limits: [{ points, duration }], key, store };
const onError = (error, info) => {
  process.stderr.write(`[${framework} ${process.pid}] ${info.phase}: ${error?.message ?? error}\n`);
};

let gw;
let listener;
// The module of each framework's major version (see test/support/apps.ts).
const MODULES = { express5: 'express', express4: 'express4', koa3: 'koa', koa2: 'koa2' };

if (framework === 'express5' || framework === 'express4') {
  const { default: express } = await import(MODULES[framework]);
  const { gateway } = await import('@gatehousejs/express');
  gw = gateway({}, { onError });
  const limiter = gw.rateLimiter(options);
  const app = express();
  app.disable('x-powered-by');
  app.get('/__stats', (_req, res) => {
    res.json(limiter.stats());
  });
  app.use(gw.use(limiter));
  app.get('/', (_req, res) => {
    res.json({ framework, pid: process.pid });
  });
  app.use(gw.errors());
  listener = app;
} else if (framework === 'koa3' || framework === 'koa2') {
  const { default: Koa } = await import(MODULES[framework]);
  const { gateway } = await import('@gatehousejs/koa');
  gw = gateway({}, { onError });
  const limiter = gw.rateLimiter(options);
  const app = new Koa();
  app.silent = true;
  app.use(gw.errors());
  app.use(async (ctx, next) => {
    if (ctx.path === '/__stats') ctx.body = limiter.stats();
    else await next();
  });
  app.use(gw.use(limiter));
  app.use((ctx) => {
    if (ctx.path === '/') ctx.body = { framework, pid: process.pid };
  });
  listener = app.callback();
} else {
  throw new Error(`fleet-instance: unknown framework ${JSON.stringify(framework)}`);
}

// Announce only once Redis is ready: a request before that would be counted by the insurance
// limiter, and the fleet test asserts exact totals in Redis.
const readyBy = Date.now() + 5_000;
while (store.degraded?.() === true) {
  if (Date.now() > readyBy) throw new Error(`fleet-instance: Redis at ${url} not ready within 5 s`);
  await new Promise((done) => setTimeout(done, 20));
}

const server = createServer(listener);
gw.serve(server);
server.listen(0, '127.0.0.1');
await once(server, 'listening');
await gw.start();
process.stdout.write(`${JSON.stringify({ port: server.address().port, pid: process.pid })}\n`);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await gw.close({ deadlineMs: 500 }).catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', shutdown);
// The parent's end of stdin closes when it exits or crashes: never outlive the test run.
process.stdin.on('close', shutdown);
process.stdin.on('end', shutdown);
process.stdin.resume();

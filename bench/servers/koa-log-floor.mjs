// Koa 3 with a hand-written access log (pino, one line per request to a file, no Gatehouse): the
// candidate of koa-access-log-floor, the least an access log costs.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Koa from 'koa';
import pino from 'pino';
import { reportListening } from '../lib/listening.mjs';

const logger = pino(
  pino.destination({ dest: join(tmpdir(), `gatehouse-bench-floor-${process.pid}.log`), sync: false }),
);
const app = new Koa();
app.use(async (ctx, next) => {
  const start = performance.now();
  await next();
  ctx.res.on('finish', () => {
    logger.info(
      { method: ctx.method, path: ctx.path, status: ctx.status, duration_ms: performance.now() - start },
      'request',
    );
  });
});
app.use((ctx) => {
  if (ctx.path === '/hello') ctx.body = { hello: 'world' };
});
reportListening(app.listen(0, '127.0.0.1'));

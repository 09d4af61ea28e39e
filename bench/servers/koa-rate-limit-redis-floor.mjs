// Koa 3 with a hand-written Redis limiter and its RateLimit fields (no Gatehouse): the candidate of
// koa-rate-limit-redis-floor.
import Koa from 'koa';
import { POLICY, spend } from '../lib/hand-redis-limiter.mjs';
import { reportListening } from '../lib/listening.mjs';

const app = new Koa();
app.use(async (ctx, next) => {
  const field = await spend(ctx.req.socket.remoteAddress ?? '');
  if (field === undefined) {
    ctx.status = 429;
    return;
  }
  ctx.set('ratelimit-policy', POLICY);
  ctx.set('ratelimit', field);
  return next();
});
app.use((ctx) => {
  if (ctx.path === '/hello') ctx.body = { hello: 'world' };
});
reportListening(app.listen(0, '127.0.0.1'));

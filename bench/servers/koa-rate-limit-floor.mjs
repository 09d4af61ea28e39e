// Koa 3 with a hand-written limiter and its RateLimit fields (no Gatehouse): the candidate of
// koa-rate-limit-floor.
import Koa from 'koa';
import { POLICY, spend } from '../lib/hand-limiter.mjs';
import { reportListening } from '../lib/listening.mjs';

const app = new Koa();
app.use((ctx, next) => {
  const field = spend(ctx.req.socket.remoteAddress ?? '');
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

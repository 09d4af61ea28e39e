// Koa 3 with a hand-written request-id middleware: the candidate of koa-request-id-floor.
import Koa from 'koa';
import { assignRequestId } from '../lib/hand-request-id.mjs';
import { reportListening } from '../lib/listening.mjs';

const app = new Koa();
app.use((ctx, next) => {
  assignRequestId(ctx.req, ctx.res);
  return next();
});
app.use((ctx) => {
  if (ctx.path === '/hello') ctx.body = { hello: 'world' };
});
reportListening(app.listen(0, '127.0.0.1'));

// Koa 3 + Gatehouse problem+json errors and request ids: the candidate of koa-request-id.
import { gateway } from '@gatehousejs/koa';
import Koa from 'koa';
import { reportListening } from '../lib/listening.mjs';

const gw = gateway({});
const app = new Koa();
app.use(gw.errors());
app.use(gw.requestId());
app.use((ctx) => {
  if (ctx.path === '/hello') ctx.body = { hello: 'world' };
});
const server = app.listen(0, '127.0.0.1');
gw.serve(server);
reportListening(server);

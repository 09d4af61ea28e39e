// Bare Koa 3: the baseline of the Koa benchmarks.
import Koa from 'koa';
import { reportListening } from '../lib/listening.mjs';

const app = new Koa();
app.use((ctx) => {
  if (ctx.path === '/hello') ctx.body = { hello: 'world' };
});
const server = app.listen(0, '127.0.0.1');
reportListening(server);

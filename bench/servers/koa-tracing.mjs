// Koa 3 + Gatehouse tracing: the candidate of koa-tracing.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gateway } from '@gatehouse/koa';
import Koa from 'koa';
import { reportListening } from '../lib/listening.mjs';
import { registerSdk } from '../lib/otel-sdk.mjs';

const variant = 'tracing';
if (variant === 'tracing-sdk') registerSdk();
const gw = gateway({});
const app = new Koa();
if (variant === 'access-log')
  app.use(gw.accessLog({ destination: join(tmpdir(), `gatehouse-bench-${process.pid}.log`) }));
else app.use(gw.tracing());
app.use((ctx) => {
  if (ctx.path === '/hello') ctx.body = { hello: 'world' };
});
reportListening(app.listen(0, '127.0.0.1'));

// The hello-world app of the tracing and access-log benchmarks, per framework, with one Gatehouse
// capability in front: 'tracing' (no SDK), 'tracing-sdk' (SDK registered first) or 'access-log'.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gateway as expressGateway } from '@gatehouse/express';
import { gateway as koaGateway } from '@gatehouse/koa';
import express from 'express';
import Koa from 'koa';
import { reportListening } from './listening.mjs';
import { registerSdk } from './otel-sdk.mjs';

const VARIANTS = new Set(['tracing', 'tracing-sdk', 'access-log']);

/** @param {import('@gatehouse/gateway').FrameworkGateway<unknown>} gw @param {string} variant */
function capability(gw, variant) {
  if (!VARIANTS.has(variant)) throw new Error(`unknown variant ${variant}`);
  if (variant === 'access-log') {
    return gw.accessLog({ destination: join(tmpdir(), `gatehouse-bench-${process.pid}.log`) });
  }
  return gw.tracing();
}

/** @param {string} variant */
export function startExpress(variant) {
  if (variant === 'tracing-sdk') registerSdk();
  const gw = expressGateway({});
  const app = express();
  app.use(capability(gw, variant));
  app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
  reportListening(app.listen(0, '127.0.0.1'));
}

/** @param {string} variant */
export function startKoa(variant) {
  if (variant === 'tracing-sdk') registerSdk();
  const gw = koaGateway({});
  const app = new Koa();
  app.use(capability(gw, variant));
  app.use((ctx) => {
    if (ctx.path === '/hello') ctx.body = { hello: 'world' };
  });
  reportListening(app.listen(0, '127.0.0.1'));
}

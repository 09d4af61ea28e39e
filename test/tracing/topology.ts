// Two gateways on one framework: a front app whose /call route makes an outbound call (traced with
// gw.tracer.fetch) to an upstream app. Both are built the same way on every framework.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exchangeOf, type GatewayConfig } from '@gatehousejs/core';
import { gateway as expressGateway } from '@gatehousejs/express';
import type { FrameworkGateway } from '@gatehousejs/gateway';
import { gateway as koaGateway } from '@gatehousejs/koa';
import type { TracingOptions } from '@gatehousejs/tracing';
import Router from '@koa/router';
import { trace } from '@opentelemetry/api';
import { asyncHandler, expressOf, type Framework, isExpress, koaOf, routePaths } from '../support/apps.js';

export interface Topology {
  front: number;
  upstream: number;
  fronts: FrameworkGateway<unknown>;
  close(): Promise<void>;
}

/** What a handler sees: the active span (must be the server span) and the trace headers it received. */
function seen(headers: import('node:http').IncomingHttpHeaders) {
  const active = trace.getActiveSpan()?.spanContext();
  return {
    activeTraceId: active?.traceId ?? null,
    activeSpanId: active?.spanId ?? null,
    traceparent: headers.traceparent ?? null,
    tracestate: headers.tracestate ?? null,
    baggage: headers.baggage ?? null,
    b3: headers.b3 ?? null,
  };
}

/** The same outbound call through the mesh client (`gw.client()`), which the gateway's tracing traces. */
function mesh(gw: FrameworkGateway<unknown>, port: number) {
  return gw.client('upstream', { endpoints: [`http://127.0.0.1:${port}`] }).request({ path: '/seen/inner' });
}

function build(
  framework: Framework,
  config: GatewayConfig,
  options: TracingOptions,
  upstreamPort: () => number,
) {
  const secret = () =>
    new Error('upstream refused token Bearer abc.def.ghi for eyJhbGciOiJ.eyJzdWIiOiIx.c2ln');
  if (isExpress(framework)) {
    const gw = expressGateway(config, { onError: () => {} });
    const app = expressOf(framework)();
    app.use(gw.tracing(options));
    app.use(gw.requestId());
    app.use(gw.admin({ access: { peers: ['loopback'] } })); // /metrics is for operators only
    for (const path of routePaths(framework, '/seen{/*rest}')) {
      app.get(path, (req, res) => {
        res.json(seen(req.headers));
      });
    }
    app.get(
      '/call',
      asyncHandler(framework, async (req, res) => {
        const exchange = exchangeOf(req);
        const url = `http://127.0.0.1:${upstreamPort()}/seen/inner`;
        const response = await gw.tracer.fetch(url, { exchange });
        res.json({ front: seen({}), upstream: await response.json() });
      }),
    );
    app.get(
      '/mesh',
      asyncHandler(framework, async (_req, res) => {
        const answer = await mesh(gw, upstreamPort());
        res.json({ front: seen({}), upstream: await answer.body.json() });
      }),
    );
    app.get('/secret', () => {
      throw secret();
    });
    app.use(gw.errors());
    return { gw, listener: app };
  }
  const gw = koaGateway(config, { onError: () => {} });
  const app = new (koaOf(framework))();
  app.use(gw.errors());
  app.use(gw.tracing(options));
  app.use(gw.requestId());
  app.use(gw.admin({ access: { peers: ['loopback'] } })); // /metrics is for operators only
  const router = new Router();
  router.get('/seen{/*rest}', (ctx) => {
    ctx.body = seen(ctx.req.headers);
  });
  router.get('/call', async (ctx) => {
    const exchange = exchangeOf(ctx.req);
    const response = await gw.tracer.fetch(`http://127.0.0.1:${upstreamPort()}/seen/inner`, { exchange });
    ctx.body = { front: seen({}), upstream: await response.json() };
  });
  router.get('/mesh', async (ctx) => {
    const answer = await mesh(gw, upstreamPort());
    ctx.body = { front: seen({}), upstream: await answer.body.json() };
  });
  router.get('/secret', () => {
    throw secret();
  });
  app.use(router.routes());
  return { gw, listener: app.callback() };
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

export async function startTopology(
  framework: Framework,
  options: TracingOptions = {},
  config: GatewayConfig = {},
): Promise<Topology> {
  let upstreamPort = 0;
  const up = build(framework, config, options, () => upstreamPort);
  const front = build(framework, config, options, () => upstreamPort);
  const upServer = up.gw.serve(createServer(up.listener));
  const frontServer = front.gw.serve(createServer(front.listener));
  upstreamPort = await listen(upServer);
  const frontPort = await listen(frontServer);
  await Promise.all([up.gw.start(), front.gw.start()]);
  return {
    front: frontPort,
    upstream: upstreamPort,
    fronts: front.gw as FrameworkGateway<unknown>,
    close: async () => {
      await Promise.all([up.gw.close({ deadlineMs: 500 }), front.gw.close({ deadlineMs: 500 })]);
    },
  };
}

// `npm run demo`: starts the inventory service and the Express and Koa gateways on localhost, prints
// what to try, and shuts down gracefully on Ctrl-C.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '@gatehousejs/core';
import { DEMO_API_KEY, expressApp, koaApp } from './apps.js';
import { createInventoryService } from './inventory.js';
import { createOrdersService } from './orders.js';

const here = dirname(fileURLToPath(import.meta.url));

async function listen(server: Server, port: number): Promise<number> {
  server.listen(port, '127.0.0.1');
  try {
    await once(server, 'listening');
  } catch {
    // The preferred port is taken: any free one will do for a demo.
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  }
  return (server.address() as AddressInfo).port;
}

export async function startDemo(ports = { express: 3000, koa: 3001, inventory: 4101, orders: 4102 }) {
  const inventory = createInventoryService();
  const inventoryPort = await listen(inventory, ports.inventory);
  const orders = createOrdersService();
  const ordersPort = await listen(orders, ports.orders);
  const file = await loadConfigFile(join(here, '..', 'gatehouse.yaml'));
  const config = {
    ...file,
    services: {
      inventory: { url: `http://127.0.0.1:${inventoryPort}` },
      orders: { url: `http://127.0.0.1:${ordersPort}` },
    },
  };
  const routesFile = join(here, '..', 'routes.yaml');
  const ex = expressApp(config, routesFile);
  const ko = koaApp(config, routesFile);
  const expressServer = ex.gw.serve(createServer(ex.listener));
  const koaServer = ko.gw.serve(createServer(ko.listener));
  const expressPort = await listen(expressServer, ports.express);
  const koaPort = await listen(koaServer, ports.koa);
  await Promise.all([ex.gw.start(), ko.gw.start()]);
  return {
    ports: { express: expressPort, koa: koaPort, inventory: inventoryPort, orders: ordersPort },
    async close() {
      await Promise.all([ex.gw.close(), ko.gw.close()]);
      inventory.close();
      orders.close();
    },
  };
}

function tryThis(port: number, name: string): string {
  const base = `http://127.0.0.1:${port}`;
  return [
    `${name} gateway on ${base}`,
    `  curl -i ${base}/api/hello                      # x-request-id generated and echoed`,
    `  curl -i -H 'x-request-id: my-id-1' ${base}/api/hello   # a well-formed id is kept`,
    `  curl -i ${base}/api/stock/sku-1                # 401 problem+json: stock needs an API key`,
    `  curl -i -H 'x-api-key: ${DEMO_API_KEY}' ${base}/api/stock/sku-1   # a call to the inventory service`,
    `  curl -i -H 'x-api-key: ${DEMO_API_KEY}' ${base}/api/stock/sku-2   # 409 problem+json from the app`,
    `  curl -i -H 'x-api-key: wrong' ${base}/api/stock/sku-1             # 401 GH_AUTH_INVALID`,
    `  for i in $(seq 11); do curl -s -o /dev/null -w '%{http_code} ' ${base}/api/hello; done   # 10 × 200, then 429`,
    `  curl -i ${base}/api/hello                      # 429 problem+json, Retry-After, RateLimit headers (free plan)`,
    `  curl -i -H 'x-api-key: ${DEMO_API_KEY}' ${base}/api/hello   # the pro plan: burst and daily windows`,
    `  curl -i ${base}/api/nope                       # 404 problem+json`,
    `  curl -i ${base}/api/a%2fb                      # 400: encoded slash refused at the edge`,
    `  curl -i ${base}/health  ;  curl -i ${base}/ready`,
    `  curl -s ${base}/metrics                        # Prometheus: request durations by route, rejections by code`,
    `  curl -i -H 'x-api-key: ${DEMO_API_KEY}' ${base}/api/orders/1   # the monolith answers; a shadow copy goes to the orders service`,
    `  curl -i -H 'x-api-key: ${DEMO_API_KEY}' ${base}/api/orders/3   # the service computes this total differently`,
    `  curl -s '${base}/api/screens/orders/1?sku=sku-1'  # a BFF screen: the order service + the inventory service in one answer`,
    `  curl -i ${base}/api/screens/orders/99          # a required call's 404 is the screen's 404, with an errors entry`,
    `  curl -s ${base}/migration                      # per route: mode, traffic per side, diff rate, latest differences (updatedAt learned as noise)`,
    `  curl -s ${base}/routes                         # the route table; edit examples/demo/routes.yaml (mode: split / fallback / remote) and save`,
  ].join('\n');
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const demo = await startDemo();
  console.log(`\nGatehouse demo — the same app on Express and Koa, each its own gateway.\n`);
  console.log(tryThis(demo.ports.express, 'Express'));
  console.log();
  console.log(tryThis(demo.ports.koa, 'Koa'));
  console.log(
    `\ninventory service on http://127.0.0.1:${demo.ports.inventory}, orders service on http://127.0.0.1:${demo.ports.orders}\nCtrl-C drains in-flight requests and stops.\n`,
  );
  const stop = async () => {
    console.log('\ndraining…');
    await demo.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

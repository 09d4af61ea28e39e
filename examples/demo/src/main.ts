// `npm run demo:gateways`: starts the inventory service and the Express and Koa gateways on localhost, prints
// what to try, and shuts down gracefully on Ctrl-C.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  // One configuration file for both gateways, followed for changes; the services' ports and the demo
  // key reach it through ${…} references.
  const file = join(here, '..', 'gatehouse.yaml');
  const options = {
    env: {
      ...process.env,
      INVENTORY_URL: `http://127.0.0.1:${inventoryPort}`,
      ORDERS_URL: `http://127.0.0.1:${ordersPort}`,
      DEMO_API_KEY,
    },
    watch: { intervalMs: 500 },
  };
  const ex = await expressApp(file, options);
  const ko = await koaApp(file, options);
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

/** One request of a printed command, as the demo test sends it. */
export interface DemoRequest {
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The status this request answers when the commands are run in the order printed. */
  readonly status: number;
}

/** A printed command: what `curl` runs, what it shows, and the requests behind it. */
export interface DemoStep {
  /** `curl -i` (status line, headers, body), or a loop printing status codes. */
  readonly show: 'response' | 'codes';
  readonly requests: readonly DemoRequest[];
  readonly note: string;
}

const KEY = { 'x-api-key': DEMO_API_KEY };

/**
 * What to try, in order. Each step's statuses are what it answers when every command before it ran
 * once, in this order, on a fresh start: the anonymous requests share the free plan (10 a minute per
 * address), so the rate-limit loop comes after every other anonymous request, and its count is what the
 * plan has left. examples/demo/test/demo.test.ts runs exactly these steps.
 */
export function demoSteps(): DemoStep[] {
  const anonymous = (path: string, status: number): DemoRequest => ({ path, status });
  const keyed = (path: string, status: number): DemoRequest => ({ path, headers: KEY, status });
  const steps: DemoStep[] = [
    { show: 'response', requests: [anonymous('/api/hello', 200)], note: 'x-request-id generated and echoed' },
    {
      show: 'response',
      requests: [{ path: '/api/hello', headers: { 'x-request-id': 'my-id-1' }, status: 200 }],
      note: 'a well-formed id is kept',
    },
    {
      show: 'response',
      requests: [anonymous('/api/stock/sku-1', 401)],
      note: 'problem+json: stock needs an API key',
    },
    { show: 'response', requests: [keyed('/api/stock/sku-1', 200)], note: 'a call to the inventory service' },
    { show: 'response', requests: [keyed('/api/stock/sku-2', 409)], note: 'problem+json from the app' },
    {
      show: 'response',
      requests: [{ path: '/api/stock/sku-1', headers: { 'x-api-key': 'wrong' }, status: 401 }],
      note: 'GH_AUTH_INVALID',
    },
    { show: 'response', requests: [anonymous('/api/nope', 404)], note: 'problem+json' },
    { show: 'response', requests: [anonymous('/api/a%2fb', 400)], note: 'encoded slash refused at the edge' },
    { show: 'response', requests: [anonymous('/health', 200)], note: 'never rate limited' },
    { show: 'response', requests: [anonymous('/ready', 200)], note: 'never rate limited' },
    {
      show: 'response',
      requests: [anonymous('/metrics', 200)],
      note: 'Prometheus: request durations by route, rejections by code',
    },
    {
      show: 'response',
      requests: [keyed('/api/orders/1', 200)],
      note: 'the monolith answers; a shadow copy goes to the orders service',
    },
    {
      show: 'response',
      requests: [keyed('/api/orders/3', 200)],
      note: 'the service computes this total differently',
    },
    {
      show: 'response',
      requests: [anonymous('/api/screens/orders/1?sku=sku-1', 200)],
      note: 'a BFF screen: the order service + the inventory service in one answer',
    },
    {
      show: 'response',
      requests: [anonymous('/api/screens/orders/99', 404)],
      note: "a required call's 404 is the screen's 404, with an errors entry",
    },
    {
      show: 'response',
      requests: [anonymous('/migration', 200)],
      note: 'per route: mode, traffic per side, diff rate, latest differences (updatedAt learned as noise)',
    },
    {
      show: 'response',
      requests: [anonymous('/routes', 200)],
      note: 'the route table; edit the mode in examples/demo/gatehouse.yaml (split / fallback / remote) and save',
    },
  ];
  // The free plan's 10 a minute, less what the anonymous requests above spent: requests refused by
  // auth (401) or at the edge (400) never reach the limiter, and the admin paths are exempt.
  const spends = (r: DemoRequest) =>
    r.headers?.['x-api-key'] === undefined && !EXEMPT.has(r.path) && r.status !== 401 && r.status !== 400;
  const spent = steps.flatMap((step) => step.requests).filter(spends).length;
  const left = FREE_PLAN - spent;
  steps.push(
    {
      show: 'codes',
      requests: [
        ...Array.from({ length: left }, () => anonymous('/api/hello', 200)),
        anonymous('/api/hello', 429),
        anonymous('/api/hello', 429),
      ],
      note: `the free plan: 10 a minute per address, ${spent} spent above`,
    },
    {
      show: 'response',
      requests: [anonymous('/api/hello', 429)],
      note: 'problem+json, Retry-After, RateLimit headers (free plan, for the rest of the minute)',
    },
    { show: 'response', requests: [keyed('/api/hello', 200)], note: 'the pro plan: burst and daily windows' },
  );
  return steps;
}

/** The free plan's requests a minute, and the paths it never counts (apps.ts). */
const FREE_PLAN = 10;
const EXEMPT = new Set(['/health', '/ready', '/metrics', '/routes', '/migration']);

/** How a step's statuses read in its comment: `200`, `200, 200`, or `5 × 200, then 2 × 429`. */
export function statusText(step: DemoStep): string {
  const statuses = step.requests.map((r) => r.status);
  if (step.show !== 'codes') return statuses.join(', ');
  const runs: Array<[number, number]> = [];
  for (const status of statuses) {
    const last = runs.at(-1);
    if (last !== undefined && last[0] === status) last[1]++;
    else runs.push([status, 1]);
  }
  return runs.map(([status, n]) => (n === 1 ? `${status}` : `${n} × ${status}`)).join(', then ');
}

/** The shell command of a step. */
export function commandOf(step: DemoStep, base: string): string {
  const curl = (r: DemoRequest, flags: string) => {
    const headers = Object.entries(r.headers ?? {})
      .map(([name, value]) => `-H '${name}: ${value}' `)
      .join('');
    const url = `${base}${r.path}`;
    return `curl ${flags} ${headers}${url.includes('?') ? `'${url}'` : url}`;
  };
  if (step.show === 'codes') {
    const first = step.requests[0]!;
    return `for i in $(seq ${step.requests.length}); do ${curl(first, "-s -o /dev/null -w '%{http_code} '")}; done`;
  }
  return step.requests.map((r) => curl(r, '-i')).join(' ; ');
}

/** What `npm run demo:gateways` prints for one gateway: a heading, then one line per step, to run in order. */
export function instructions(port: number, name: string): string {
  const base = `http://127.0.0.1:${port}`;
  const lines = demoSteps().map((step) => {
    const command = commandOf(step, base);
    return `  ${command.padEnd(60)}  # ${statusText(step)} — ${step.note}`;
  });
  return [`${name} gateway on ${base} — run these in order:`, ...lines].join('\n');
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const demo = await startDemo();
  console.log(`\nGatehouse demo — the same app on Express and Koa, each its own gateway.\n`);
  console.log(instructions(demo.ports.express, 'Express'));
  console.log();
  console.log(instructions(demo.ports.koa, 'Koa'));
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

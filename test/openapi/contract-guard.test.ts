// The migration guard on every framework: a migrated route's service answers are checked against the
// OpenAPI document (remote traffic as it is relayed, shadow copies after the client has its answer),
// violations are counted per route and field in the migration report, and a gate demotes a route whose
// service breaks the contract. A real service on loopback, the real routes controller.
import { afterEach, describe, expect, test } from 'vitest';
import {
  FRAMEWORKS,
  type RoutesApp,
  startRoutesApp,
  startUpstream,
  type Upstream,
} from '../routes/harness.js';
import { request } from '../support/raw-http.js';

const document = {
  openapi: '3.1.0',
  info: { title: 'items', version: '1' },
  paths: {
    '/items/{id}': {
      get: {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          200: {
            description: 'an item',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['id', 'name'],
                  properties: { id: { type: 'string' }, name: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
  },
};

/** The service: a conforming item for /items/good, a broken one elsewhere (id a number, no name). */
function service(): Promise<Upstream> {
  return startUpstream((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/items/good') res.end(JSON.stringify({ id: 'good', name: 'Good' }));
    else if (req.url === '/items/teapot') {
      res.statusCode = 418;
      res.end('{}');
    } else res.end(JSON.stringify({ id: 7 }));
  });
}

let apps: RoutesApp[] = [];
let upstreams: Upstream[] = [];
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await Promise.all(upstreams.map((u) => u.close()));
  apps = [];
  upstreams = [];
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function start(
  fw: (typeof FRAMEWORKS)[number],
  mode: 'remote' | 'shadow',
  gates = {},
): Promise<RoutesApp> {
  const upstream = await service();
  upstreams.push(upstream);
  const app = await startRoutesApp(fw, {
    config: { services: { items: { url: upstream.url } } },
    // Requests are not validated here (requests: false): only the services' answers are judged.
    before: (gw) => [gw.validate({ document, requests: false })],
    routes: { table: [{ name: 'items', path: '/items/*', service: 'items', mode, gates }] },
  });
  apps.push(app);
  return app;
}

const contractOf = (app: RoutesApp) => app.routes.migration().find((r) => r.name === 'items')!.contract;

describe.each(FRAMEWORKS)('%s', (fw) => {
  test('remote answers are counted per field; the client gets them unchanged', async () => {
    const app = await start(fw, 'remote');
    for (const path of ['/items/good', '/items/bad', '/items/bad', '/items/teapot', '/orders/1']) {
      const res = await request(app.port, { path });
      if (path === '/items/bad') expect(res.json).toEqual({ id: 7 });
    }
    await until(() => contractOf(app).total.checked === 4, 'four judged answers');
    const contract = contractOf(app);
    expect(contract.total).toEqual({ checked: 4, violations: 3 });
    expect(contract.stage).toEqual({ checked: 4, violations: 3 });
    // One issue per answer (validation stops at the first): the missing name is found before /id.
    expect(contract.fields).toEqual({ 'body:/name': 2, 'status:418': 1 });
    expect(contract.window).toEqual({ compared: 4, different: 3, rate: 0.75 });
  });

  test('shadow copies are judged after the local answer', async () => {
    const app = await start(fw, 'shadow');
    const res = await request(app.port, { path: '/items/bad' });
    expect(res.status).toBe(200);
    await until(() => contractOf(app).total.checked === 1, 'the shadow copy judged');
    expect(contractOf(app)).toMatchObject({
      total: { checked: 1, violations: 1 },
      fields: { 'body:/name': 1 },
    });
  });

  test('a gate demotes a route whose service breaks the contract too often', async () => {
    const app = await start(fw, 'remote', { minRequests: 3, maxContractViolationRate: 0.5 });
    for (let i = 0; i < 3; i++) await request(app.port, { path: '/items/bad' });
    await until(() => contractOf(app).total.checked === 3, 'three judged answers');
    const demoted = app.routes.evaluateGates();
    expect(demoted).toHaveLength(1);
    expect(demoted[0]).toMatchObject({
      route: 'items',
      from: { mode: 'remote' },
      to: { mode: 'fallback' },
      by: 'gate',
      reason: 'contract-violation-rate',
      observed: 1,
      threshold: 0.5,
    });
  });
});

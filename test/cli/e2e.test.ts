// The `gatehouse` command end to end, as a user runs it (the built bin, a child process): validate a
// file, look at and steer a running gateway through its admin API (status, routes, migration, promote,
// set, rollback, reload), refused without a credential; and init on a scratch Express 4 app (CommonJS)
// and a Koa app (ES modules) in temp directories, which then start and answer through Gatehouse.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type ConfiguredApp,
  getJson,
  type NamedUpstream,
  startConfigured,
  startUpstream,
} from '../config/support.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = join(ROOT, 'packages/cli/bin/gatehouse.js');
const BUILT = [
  'packages/cli/dist/bin.js',
  'packages/express/dist/index.js',
  'packages/koa/dist/index.js',
  'packages/gateway/dist/config/index.js',
];
const ON_CI = process.env.CI === 'true';
const OPS_KEY = 'ops-key-e2e-0123456789';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function gatehouse(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? 1), stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  // `npm test` builds first; a run of this file alone builds what it needs.
  if (BUILT.every((f) => existsSync(join(ROOT, f)))) return;
  if (ON_CI) throw new Error(`CI=true and the CLI is not built (${BUILT.join(', ')})`);
  const child = spawn(
    'npx',
    [
      'turbo',
      'run',
      'build',
      '--filter=@gatehousejs/cli',
      '--filter=@gatehousejs/express',
      '--filter=@gatehousejs/koa',
      '--output-logs=errors-only',
    ],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  const [code] = (await once(child, 'exit')) as [number];
  expect(code, 'turbo build').toBe(0);
}, 300_000);

describe('validate', () => {
  test('every problem with file:line:col, exit 1; a valid file, exit 0', async () => {
    const bad = await gatehouse(['validate', 'packages/cli/src/fixtures/every-mistake.yaml'], {
      PORT: '8080',
    });
    expect(bad.code).toBe(1);
    const errors = bad.stderr.split('\n').filter((l) => l.startsWith('error '));
    expect(errors).toHaveLength(8);
    expect(errors[2]).toBe(
      "error packages/cli/src/fixtures/every-mistake.yaml:14:14 routes[0].service: unknown service 'ordrs' — did you mean 'orders'? (services: orders, inventory)",
    );
    const good = await gatehouse(['validate', 'docs/examples/gatehouse.yaml'], {
      ORDERS_URL: 'http://127.0.0.1:8081',
      IDP: 'https://login.example.com',
    });
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(
      /^✓ docs\/examples\/gatehouse\.yaml is valid \(5 services, 2 routes, auth, rateLimit, tracing, versioning, openapi, aggregate, cache\)\n$/,
    );
  });
});

describe('against a running gateway', () => {
  let upstream: NamedUpstream;
  let app: ConfiguredApp;
  let file: string;
  const config = (mode = 'local') => `
services:
  orders: { url: "${upstream.url}" }
routes:
  - { name: orders, path: /orders/*, service: orders, mode: ${mode} }
auth:
  methods: [{ apiKey: { keys: [{ id: ops, key: ${OPS_KEY}, roles: [ops] }] } }]
  default: anonymous
admin:
  prefix: /_gatehouse
  access: { require: { roles: [ops] } }
`;
  let env: Record<string, string>;
  beforeAll(async () => {
    upstream = await startUpstream('orders');
    file = join(mkdtempSync(join(tmpdir(), 'gatehouse-cli-e2e-')), 'gatehouse.yaml');
    writeFileSync(file, config());
    app = await startConfigured('express5', { file }, { watch: false });
    env = { GATEHOUSE_ADMIN_URL: `${app.url}/_gatehouse`, GATEHOUSE_ADMIN_API_KEY: OPS_KEY };
  });
  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });

  const mode = async () =>
    (
      (await getJson(`${app.url}/_gatehouse/routes`, { headers: { 'x-api-key': OPS_KEY } })).body as {
        controllers: { routes: { mode: string; weight: number }[] }[];
      }
    ).controllers[0]!.routes[0]!;

  test('without a credential: refused with what to do, and nothing changes', async () => {
    const refused = await gatehouse(['promote', 'orders'], { GATEHOUSE_ADMIN_URL: env.GATEHOUSE_ADMIN_URL! });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /The gateway wants a credential \(401 \[GH_AUTH_REQUIRED\]\).*Pass one with --token .*--api-key/,
    );
    expect(await mode()).toMatchObject({ mode: 'local' });
  });

  test('status, routes', async () => {
    const status = await gatehouse(['status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^health\s+ok$/m);
    expect(status.stdout).toMatch(/^ready\s+ready$/m);
    expect(status.stdout).toMatch(/^configuration\s+gatehouse\.yaml, revision 1 /m);
    const routes = await gatehouse(['routes'], env);
    expect(routes.code).toBe(0);
    expect(routes.stdout).toMatch(/^ROUTE\s+PATH\s+METHODS\s+SERVICE\s+MODE\s+SET BY$/m);
    expect(routes.stdout).toMatch(/^orders\s+\/orders\/\*\s+any\s+orders\s+local\s+as in table$/m);
    const json = await gatehouse(['routes', '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({
      controllers: [{ routes: [{ name: 'orders', mode: 'local' }] }],
    });
  });

  test('promote, set, rollback: the gateway changes, the history says who and why', async () => {
    const promoted = await gatehouse(['promote', 'orders', '--reason', 'shadow reads clean'], env);
    expect(promoted).toMatchObject({ code: 0, stdout: '✓ orders: local → shadow\n' });
    expect(await mode()).toMatchObject({ mode: 'shadow' });
    const set = await gatehouse(['set', 'orders', '--mode', 'split', '--weight', '25'], env);
    expect(set).toMatchObject({ code: 0, stdout: '✓ orders: shadow → split 25%\n' });
    expect(await mode()).toMatchObject({ mode: 'split', weight: 25 });
    const stale = await gatehouse(['rollback', 'orders', '--expect', 'shadow'], env);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(
      "Nothing changed (409 [GH_ADMIN_CONFLICT]): Route 'orders' is in split mode, not shadow",
    );
    const rolled = await gatehouse(['rollback', 'orders', '--reason', 'p99 up'], env);
    expect(rolled).toMatchObject({ code: 0, stdout: '✓ orders: split 25% → shadow\n' });
    const detail = await gatehouse(['migration', 'orders'], env);
    expect(detail.code).toBe(0);
    expect(detail.stdout).toMatch(/^orders {2}shadow {2}since /m);
    const history = detail.stdout.split('\n').filter((l) => /^ {2}\d{4}-/.test(l));
    expect(history.map((l) => l.replace(/^ {2}\S+ /, ''))).toEqual([
      'rollback orders split 25% → shadow by ops from 127.0.0.1 — p99 up',
      'mode orders shadow → split 25% by ops from 127.0.0.1',
      'promote orders local → shadow by ops from 127.0.0.1 — shadow reads clean',
    ]);
    const unknown = await gatehouse(['migration', 'ordres'], env);
    expect(unknown.stderr).toContain("No route named 'ordres' — did you mean 'orders'?");
  });

  test('reload: a bad file is refused with every problem at file:line:col and shown by status', async () => {
    writeFileSync(file, config('shadw'));
    const refused = await gatehouse(['reload'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'was rejected (1 problem): revision 1 stays in force [GH_CONFIG_RELOAD_REJECTED]',
    );
    expect(refused.stderr).toMatch(
      /gatehouse\.yaml:5:61 routes\[0\]\.mode: expected one of .* did you mean 'shadow'\?/,
    );
    const status = await gatehouse(['status'], env);
    expect(status.stdout).toMatch(/^last reload\s+rejected at .*: 1 problem \(revision 1 stays\)$/m);
    writeFileSync(file, config('remote'));
    const applied = await gatehouse(['reload'], env);
    expect(applied).toMatchObject({ code: 0, stdout: '✓ revision 2 applied (routes)\n' });
    expect(await mode()).toMatchObject({ mode: 'remote' });
  });
});

describe('a public read-only admin, and writers of their own', () => {
  let upstream: NamedUpstream;
  const config = (access: string) => `
services:
  orders: { url: "${upstream.url}" }
routes:
  - { name: orders, path: /orders/*, service: orders, mode: split, weight: 10, promotion: { holdMs: 3600000 } }
auth:
  methods: [{ apiKey: { keys: [{ id: ops, key: ${OPS_KEY}, roles: [ops] }] } }]
  default: anonymous
admin:
  prefix: /_gatehouse
  access: ${access}
`;
  beforeAll(async () => {
    upstream = await startUpstream('orders');
  });
  afterAll(async () => {
    await upstream?.close();
  });

  async function start(access: string): Promise<ConfiguredApp> {
    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-cli-e2e-')), 'gatehouse.yaml');
    writeFileSync(file, config(access));
    return startConfigured('express5', { file }, { watch: false });
  }

  test('dangerouslyPublic alone: anyone reads, and a promote is refused with what to do, even with the key', async () => {
    const app = await start('{ dangerouslyPublic: true }');
    try {
      const url = { GATEHOUSE_ADMIN_URL: `${app.url}/_gatehouse` };
      const read = await gatehouse(['migration', 'orders'], url);
      expect(read.code).toBe(0);
      expect(read.stdout).toMatch(/^orders {2}split 10%/m);
      const refused = await gatehouse(['promote', 'orders'], { ...url, GATEHOUSE_ADMIN_API_KEY: OPS_KEY });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        'The gateway refused (403 [GH_ADMIN_FORBIDDEN]): dangerouslyPublic admits reads only',
      );
      expect(refused.stderr).toContain('never by dangerouslyPublic alone');
      expect((await gatehouse(['migration', 'orders'], url)).stdout).toMatch(/^orders {2}split 10%/m);
    } finally {
      await app.close();
    }
  });

  test("access.write admits the ops key; promote and rollback follow the route's promotion steps", async () => {
    const app = await start('{ dangerouslyPublic: true, write: { require: { roles: [ops] } } }');
    try {
      const env = { GATEHOUSE_ADMIN_URL: `${app.url}/_gatehouse`, GATEHOUSE_ADMIN_API_KEY: OPS_KEY };
      expect(await gatehouse(['promote', 'orders'], env)).toMatchObject({
        code: 0,
        stdout: '✓ orders: split 10% → split 50%\n',
      });
      expect(await gatehouse(['rollback', 'orders'], env)).toMatchObject({
        code: 0,
        stdout: '✓ orders: split 50% → split 10%\n',
      });
      const anonymous = await gatehouse(['promote', 'orders'], {
        GATEHOUSE_ADMIN_URL: env.GATEHOUSE_ADMIN_URL,
      });
      expect(anonymous.code).toBe(1);
      expect(anonymous.stderr).toContain('The gateway wants a credential (401');
    } finally {
      await app.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// init on scratch projects, which then run
// ---------------------------------------------------------------------------------------------

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  await new Promise((done) => server.close(done));
  return port;
}

/** A scratch project whose node_modules are this repository's (Express 4 as `express`, Koa, Gatehouse). */
function scratch(files: Record<string, string>, modules: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-scratch-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  mkdirSync(join(dir, 'node_modules'));
  for (const [name, target] of Object.entries(modules)) {
    mkdirSync(join(dir, 'node_modules', name, '..'), { recursive: true });
    symlinkSync(join(ROOT, target), join(dir, 'node_modules', name));
  }
  return dir;
}

async function runApp(dir: string, entry: string): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [entry], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', PORT: String(port) },
    stdio: 'pipe',
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/_gatehouse/health`)).ok) return url;
    } catch {
      // not yet listening
    }
    if (child.exitCode !== null || Date.now() > end) throw new Error(`the app did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('init on a scratch Express 4 app (CommonJS): detected, set up with --write, and it answers through Gatehouse', async () => {
  const dir = scratch(
    {
      'package.json': JSON.stringify({
        name: 'shop',
        main: 'server.js',
        dependencies: { express: '^4.21.2' },
      }),
      'server.js': `const express = require('express');
const app = express();
app.get('/hello', (req, res) => res.json({ hello: 'world' }));
app.listen(Number(process.env.PORT), '127.0.0.1');
`,
    },
    { express: 'node_modules/express4', '@gatehousejs': 'node_modules/@gatehousejs' },
  );
  const init = await gatehouse(['init', '--write'], {}, dir);
  expect(init.stderr).toBe('');
  expect(init.code).toBe(0);
  expect(init.stdout).toContain('Found Express 4.');
  expect(init.stdout).toContain('(CommonJS) in server.js.');
  expect(init.stdout).toContain('✓ added Gatehouse to server.js');
  expect(readFileSync(join(dir, 'server.js'), 'utf8')).toContain(
    "gw.serve(app.listen(Number(process.env.PORT), '127.0.0.1'));",
  );
  expect((await gatehouse(['validate', 'gatehouse.yaml'], {}, dir)).code).toBe(0);

  const url = await runApp(dir, 'server.js');
  const hello = await getJson(`${url}/hello`);
  expect(hello.status).toBe(200);
  expect(hello.body).toEqual({ hello: 'world' });
  expect(hello.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  const missing = await getJson(`${url}/nowhere`);
  expect(missing.status).toBe(404);
  expect(missing.headers.get('content-type')).toBe('application/problem+json');
  const status = await gatehouse(['status', '--url', `${url}/_gatehouse`]);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/^configuration\s+gatehouse\.yaml, revision 1 /m);
});

test('init on a scratch Koa app (ES modules): detected, set up with --write, and it answers through Gatehouse', async () => {
  const dir = scratch(
    {
      'package.json': JSON.stringify({
        name: 'bff',
        type: 'module',
        scripts: { start: 'node app.js' },
        dependencies: { koa: '^3.0.1', '@koa/router': '^15.0.0' },
      }),
      'app.js': `import Koa from 'koa';
import Router from '@koa/router';

const app = new Koa();
const router = new Router();
router.get('/hello', (ctx) => {
  ctx.body = { hello: 'koa' };
});
app.use(router.routes());
app.listen(Number(process.env.PORT), '127.0.0.1');
`,
    },
    { koa: 'node_modules/koa', '@koa': 'node_modules/@koa', '@gatehousejs': 'node_modules/@gatehousejs' },
  );
  const init = await gatehouse(['init', '--write'], {}, dir);
  expect(init.code).toBe(0);
  expect(init.stdout).toContain('Found Koa 3.');
  expect(init.stdout).toContain('(ES modules) in app.js.');
  const source = readFileSync(join(dir, 'app.js'), 'utf8');
  expect(source).toContain("import { gatewayFromFileSync } from '@gatehousejs/koa';");
  expect(source).not.toContain('gw.errors()');

  const url = await runApp(dir, 'app.js');
  expect((await getJson(`${url}/hello`)).body).toEqual({ hello: 'koa' });
  const missing = await getJson(`${url}/nowhere`);
  expect(missing.status).toBe(404);
  expect((missing.body as { code: string }).code).toBe('GH_NOT_FOUND');
  const routes = await gatehouse(['routes', '--url', `${url}/_gatehouse`]);
  expect(routes).toMatchObject({ code: 0, stdout: 'No routes.\n' });
});

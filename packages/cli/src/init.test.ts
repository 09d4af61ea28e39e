// `gatehouse init` on scratch projects: what it detects (framework and version, module system,
// TypeScript, the app's file), the starter configuration (valid), and the lines it adds — or, when a
// statement is not where it looks, the lines it prints without changing anything.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGatehouseConfig } from '@gatehousejs/gateway/config';
import { describe, expect, test } from 'vitest';
import { run } from './cli.js';
import { addLines, detectProject, starterConfig } from './init.js';
import type { Io } from './io.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-init-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

async function gatehouse(args: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env: {},
    cwd,
  };
  return { code: await run(args, io), stdout: () => stdout, stderr: () => stderr };
}

const EXPRESS4_SERVER = `'use strict';
const express = require('express');
const app = express();

app.get('/hello', (req, res) => res.json({ hello: 'world' }));

app.listen(3000, () => {
  console.log('listening on 3000 (ready)');
});
`;

const KOA_TS = `import Koa from 'koa';
import Router from '@koa/router';

export const app: Koa = new Koa();
const router = new Router();
router.get('/hello', (ctx) => {
  ctx.body = { hello: 'world' };
});
app.use(router.routes());

const server = app.listen(Number(process.env.PORT ?? 4000), '127.0.0.1');
export default server;
`;

describe('detecting the project', () => {
  test('an Express 4 app in CommonJS, found from package.json main', () => {
    const dir = project({
      'package.json': JSON.stringify({
        name: 'shop',
        main: 'server.js',
        dependencies: { express: '^4.21.2' },
      }),
      'server.js': EXPRESS4_SERVER,
    });
    expect(detectProject(dir)).toEqual({
      dir,
      name: 'shop',
      framework: 'express',
      version: '4.21.2',
      major: 4,
      module: 'commonjs',
      typescript: false,
      entry: 'server.js',
    });
  });

  test('a Koa 3 app in TypeScript with ES modules, found from the start script', () => {
    const dir = project({
      'package.json': JSON.stringify({
        name: 'bff',
        type: 'module',
        scripts: { start: 'tsx watch src/server.ts' },
        dependencies: { koa: '^3.0.1', '@koa/router': '^15.0.0' },
        devDependencies: { typescript: '^5.9.0' },
      }),
      'src/server.ts': KOA_TS,
    });
    expect(detectProject(dir)).toMatchObject({
      framework: 'koa',
      major: 3,
      module: 'esm',
      typescript: true,
      entry: 'src/server.ts',
    });
  });

  test('what it cannot decide, it says how to decide', () => {
    const both = project({
      'package.json': JSON.stringify({ dependencies: { express: '^5.0.0', koa: '^3.0.0' } }),
    });
    expect(() => detectProject(both)).toThrow('Both express and koa are dependencies');
    expect(detectProject(both, { framework: 'koa' }).framework).toBe('koa');
    const neither = project({ 'package.json': JSON.stringify({ dependencies: { fastify: '^5.0.0' } }) });
    expect(() => detectProject(neither)).toThrow('Neither express nor koa is a dependency');
    const old = project({ 'package.json': JSON.stringify({ dependencies: { express: '^4.17.1' } }) });
    expect(() => detectProject(old)).toThrow(
      'express 4.17.1 is not supported: Gatehouse runs on Express 4.21+ and 5',
    );
    const none = mkdtempSync(join(tmpdir(), 'gatehouse-init-'));
    expect(() => detectProject(none)).toThrow('No package.json in');
  });
});

describe('the lines', () => {
  test('Express 4, CommonJS: the require, the gateway and mount after the app, errors() and serve() around listen', () => {
    const dir = project({
      'package.json': JSON.stringify({ dependencies: { express: '^4.21.2' } }),
      'server.js': EXPRESS4_SERVER,
    });
    const edited = addLines(EXPRESS4_SERVER, detectProject(dir));
    expect(edited).toEqual({
      text: `'use strict';
const express = require('express');
const { gatewayFromFileSync } = require('@gatehousejs/express');
const app = express();
const gw = gatewayFromFileSync('gatehouse.yaml'); // Gatehouse
gw.mount(app);

app.get('/hello', (req, res) => res.json({ hello: 'world' }));

app.use(gw.errors()); // Gatehouse: 404s and errors as problem+json
gw.serve(app.listen(3000, () => {
  console.log('listening on 3000 (ready)');
}));
`,
    });
  });

  test('Koa, TypeScript: import syntax, a typed app, a listen whose result is kept; no errors() line (mount puts it first)', () => {
    const dir = project({
      'package.json': JSON.stringify({
        type: 'module',
        dependencies: { koa: '^3.0.1' },
        devDependencies: { typescript: '^5.9.0' },
      }),
      'src/server.ts': KOA_TS,
    });
    const edited = addLines(KOA_TS, detectProject(dir)) as { text: string };
    expect(edited.text.split('\n').slice(0, 7)).toEqual([
      "import Koa from 'koa';",
      "import { gatewayFromFileSync } from '@gatehousejs/koa';",
      "import Router from '@koa/router';",
      '',
      'export const app: Koa = new Koa();',
      "const gw = gatewayFromFileSync('gatehouse.yaml'); // Gatehouse",
      'gw.mount(app);',
    ]);
    expect(edited.text).toContain(
      "const server = gw.serve(app.listen(Number(process.env.PORT ?? 4000), '127.0.0.1'));",
    );
    expect(edited.text).not.toContain('gw.errors()');
  });

  test('a statement it cannot find: nothing is changed, and it says which', () => {
    const dir = project({ 'package.json': JSON.stringify({ dependencies: { express: '^5.1.0' } }) });
    const p = detectProject(dir);
    expect(addLines("import express from 'express';\nexport const app = express();\n", p)).toEqual({
      missing: ['app.listen(…)'],
    });
    expect(addLines('const server = makeServer();\nserver.listen(1);\n', p)).toEqual({
      missing: ['the import of express', 'const app = express()', 'app.listen(…)'],
    });
  });

  test('the starter configuration is valid and names the project', () => {
    const dir = project({
      'package.json': JSON.stringify({ name: 'shop', dependencies: { express: '^4.21.2' } }),
    });
    const text = starterConfig(detectProject(dir), 3000);
    expect(text).toContain('# Gatehouse for shop (Express 4.21.2, CommonJS)');
    const loaded = parseGatehouseConfig(text, 'gatehouse.yaml');
    expect(loaded.config.server).toEqual({ port: 3000 });
    expect(loaded.config.admin?.access?.peers).toEqual(['loopback']);
  });
});

describe('gatehouse init', () => {
  test('without --write: the starter configuration written, the lines printed, the app left alone', async () => {
    const dir = project({
      'package.json': JSON.stringify({
        name: 'shop',
        main: 'server.js',
        dependencies: { express: '^4.21.2' },
      }),
      'server.js': EXPRESS4_SERVER,
    });
    const result = await gatehouse(['init'], dir);
    expect(result.code).toBe(0);
    expect(readFileSync(join(dir, 'server.js'), 'utf8')).toBe(EXPRESS4_SERVER);
    expect(readFileSync(join(dir, 'gatehouse.yaml'), 'utf8')).toContain('Gatehouse for shop');
    const out = result.stdout();
    expect(out).toContain('Found Express 4.21.2 (CommonJS) in server.js.');
    expect(out).toContain("const { gatewayFromFileSync } = require('@gatehousejs/express');");
    expect(out).toContain('gw.serve(app.listen(…));');
    expect(out).toContain('npm install @gatehousejs/express');
  });

  test('--write twice: the second run finds Gatehouse there and changes nothing', async () => {
    const dir = project({
      'package.json': JSON.stringify({ main: 'server.js', dependencies: { express: '^4.21.2' } }),
      'server.js': EXPRESS4_SERVER,
    });
    expect((await gatehouse(['init', '--write'], dir)).code).toBe(0);
    const once = readFileSync(join(dir, 'server.js'), 'utf8');
    expect(once).toContain('gw.mount(app);');
    const again = await gatehouse(['init', '--write'], dir);
    expect(again.code).toBe(1);
    expect(again.stderr()).toContain('server.js already uses Gatehouse: nothing to do.');
    expect(readFileSync(join(dir, 'server.js'), 'utf8')).toBe(once);
  });

  test('--write where a statement is missing: exit 1, the file unchanged, the lines printed', async () => {
    const source = "import express from 'express';\nexport const app = express();\n";
    const dir = project({
      'package.json': JSON.stringify({ type: 'module', main: 'app.js', dependencies: { express: '^5.1.0' } }),
      'app.js': source,
    });
    const result = await gatehouse(['init', '--write'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr()).toContain(
      'could not find app.listen(…) in app.js: nothing was changed there. Add these lines yourself:',
    );
    expect(result.stdout()).toContain("import { gatewayFromFileSync } from '@gatehousejs/express';");
    expect(readFileSync(join(dir, 'app.js'), 'utf8')).toBe(source);
  });
});

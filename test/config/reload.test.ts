// Hot reload of the whole configuration from a file (and an etcd key) over real sockets, on every
// framework: applied atomically between requests, in-flight requests finish on the configuration they
// started with, the last good one kept on a bad or half-written reload (reported as an event, a log
// line and in /config with file:line:col), parts that cannot change at run time named, and what did
// not change carried over (rate-limit counters).
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReloadResult } from '@gatehousejs/gateway';
import type { ConfigRuntime } from '@gatehousejs/gateway/config';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type EtcdServer, etcdMissing, startEtcd } from '../../packages/discovery/src/test-etcd.js';
import { FRAMEWORKS, type Framework } from '../support/apps.js';
import {
  type ConfiguredApp,
  capture,
  getJson,
  type NamedUpstream,
  nextEvent,
  replaceFile,
  startConfigured,
  startUpstream,
} from './support.js';

const ON_CI = process.env.CI === 'true';
const WATCH = { intervalMs: 50, debounceMs: 40 };

let alpha: NamedUpstream;
let beta: NamedUpstream;
beforeAll(async () => {
  alpha = await startUpstream('alpha');
  beta = await startUpstream('beta');
});
afterAll(async () => {
  await alpha.close();
  await beta.close();
});

const config = (upstream: NamedUpstream, extra = '') =>
  [
    'services:',
    `  api: { url: "${upstream.url}" }`,
    'routes:',
    '  - name: api',
    '    path: /api/*',
    '    service: api',
    '    mode: remote',
    `    responseHeaders: { set: { x-config: "${upstream.name}" } }`,
    'admin:',
    '  access: { peers: [loopback] }',
    extra,
  ].join('\n');

const runtimeOf = (app: ConfiguredApp) => app.gw.configuration as ConfigRuntime;

let app: ConfiguredApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function tempFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-config-')), 'gatehouse.yaml');
  writeFileSync(file, text);
  return file;
}

describe.each(FRAMEWORKS)('%s: reload from a file', (framework: Framework) => {
  test('a request in flight finishes on the configuration it started with; the next one takes the new; the old client closes after it', async () => {
    const file = tempFile(config(alpha));
    app = await startConfigured(framework, { file }, { watch: WATCH });
    const release = alpha.hold();
    const inFlight = getJson(`${app.url}/api/held`);
    await waitUntil(() => alpha.hits.includes('/api/held'));
    const closedBefore = alpha.closedConnections();
    const reloaded = nextEvent<ReloadResult>(runtimeOf(app), 'reload');
    replaceFile(file, config(beta));
    expect(await reloaded).toMatchObject({
      outcome: 'applied',
      revision: 2,
      changed: ['services', 'routes'],
    });
    const fresh = await getJson(`${app.url}/api/next`);
    expect(fresh.body).toEqual({ upstream: 'beta', path: '/api/next' });
    expect(fresh.headers.get('x-config')).toBe('beta');
    release();
    const old = await inFlight;
    expect(old.status).toBe(200);
    expect(old.body).toEqual({ upstream: 'alpha', path: '/api/held' });
    // Its answer is shaped by the route as it was when it arrived (the response header of table 1).
    expect(old.headers.get('x-config')).toBe('alpha');
    // Retired with the last request on it: the old client's connections are closed.
    await waitUntil(() => alpha.closedConnections() > closedBefore);
  });

  test('applied atomically: every answer of a burst across a reload is wholly old or wholly new', async () => {
    const file = tempFile(config(alpha));
    app = await startConfigured(framework, { file }, { watch: WATCH });
    const reloaded = nextEvent(runtimeOf(app), 'reload');
    const answers: Promise<{ headers: Headers; body: unknown }>[] = [];
    for (let i = 0; i < 60; i++) {
      answers.push(getJson(`${app.url}/api/${i}`));
      if (i === 20) replaceFile(file, config(beta));
      await new Promise((r) => setTimeout(r, 2));
    }
    await reloaded;
    for (let i = 0; i < 40; i++) answers.push(getJson(`${app.url}/api/late-${i}`));
    const settled = await Promise.all(answers);
    const sides = settled.map(
      (a) => `${(a.body as { upstream: string }).upstream}/${a.headers.get('x-config')}`,
    );
    // The header comes from the table, the body from the service: a mix would be alpha/beta or beta/alpha.
    for (const side of sides) expect(['alpha/alpha', 'beta/beta']).toContain(side);
    expect(sides.at(-1)).toBe('beta/beta');
  });

  test('a bad reload is rejected with every problem and file:line:col, reported three ways; the last good stays', async () => {
    const file = tempFile(config(alpha));
    const { captured, options } = capture();
    app = await startConfigured(framework, { file }, { watch: WATCH, ...options });
    const rejected = nextEvent<{ origin: string; problems: unknown[] }>(runtimeOf(app), 'reject');
    replaceFile(
      file,
      config(alpha).replace('service: api', 'service: apl').replace('mode: remote', 'mode: remot'),
    );
    const { problems } = await rejected;
    expect(problems).toEqual([
      {
        path: 'routes[0].service',
        message: "unknown service 'apl' — did you mean 'api'? (services: api)",
        source: { file, line: 6, column: 14 },
      },
      {
        path: 'routes[0].mode',
        message:
          "expected one of 'local', 'shadow', 'split', 'fallback' or 'remote', received the string 'remot' — did you mean 'remote'?",
        source: { file, line: 7, column: 11 },
      },
    ]);
    // The log line, and the admin status (the file by its name: admin.reveal.filePaths is off).
    expect(
      captured.errors.some((e) => e.msg.includes('keeping revision 1') && e.obj.phase === 'config.reload'),
    ).toBe(true);
    const status = await getJson(`${app.url}/config`);
    expect(status.body).toMatchObject({
      revision: 1,
      origin: 'gatehouse.yaml',
      lastReload: {
        outcome: 'rejected',
        problems: [
          { path: 'routes[0].service', source: { file: 'gatehouse.yaml', line: 6, column: 14 } },
          { path: 'routes[0].mode', source: { file: 'gatehouse.yaml', line: 7, column: 11 } },
        ],
      },
    });
    expect((await getJson(`${app.url}/api/still`)).body).toEqual({ upstream: 'alpha', path: '/api/still' });
    // Fixed: applied.
    const reloaded = nextEvent(runtimeOf(app), 'reload');
    replaceFile(file, config(beta));
    await reloaded;
    expect((await getJson(`${app.url}/api/fixed`)).body).toEqual({ upstream: 'beta', path: '/api/fixed' });
  });

  test('a file being written is never taken half-written', async () => {
    const file = tempFile(config(alpha));
    app = await startConfigured(framework, { file }, { watch: WATCH });
    const runtime = runtimeOf(app);
    const seen: ReloadResult[] = [];
    const rejections: unknown[] = [];
    runtime.on('reload', (r: ReloadResult) => seen.push(r));
    runtime.on('reject', (r: unknown) => rejections.push(r));
    // Written in place in three parts with pauses shorter than the debounce: the first part alone is
    // a valid configuration that has no route at all.
    const whole = config(beta);
    const cut = whole.indexOf('routes:');
    writeFileSync(file, whole.slice(0, cut));
    await new Promise((r) => setTimeout(r, 15));
    appendFileSync(file, whole.slice(cut, cut + 30));
    await new Promise((r) => setTimeout(r, 15));
    appendFileSync(file, whole.slice(cut + 30));
    await waitUntil(() => seen.length > 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.map((r) => r.revision)).toEqual([2]);
    expect(rejections).toEqual([]);
    expect((await getJson(`${app.url}/api/x`)).body).toEqual({ upstream: 'beta', path: '/api/x' });
  });

  test('keys that cannot change at run time are named and keep their values; the rest is applied', async () => {
    const file = tempFile(config(alpha, 'server: { port: 8080 }\npaths: { caseSensitive: false }\n'));
    const { captured, options } = capture();
    app = await startConfigured(framework, { file }, { watch: WATCH, ...options });
    const restart = nextEvent<{ keys: string[] }>(runtimeOf(app), 'restart-required');
    replaceFile(file, config(beta, 'server: { port: 9090 }\npaths: { caseSensitive: true }\n'));
    expect((await restart).keys).toEqual(['server', 'paths']);
    expect(
      captured.info.some(
        (l) => l.msg.includes('server, paths changed') && l.msg.includes('restart to apply'),
      ),
    ).toBe(true);
    // Services and routes were applied; matching is still case-insensitive.
    expect((await getJson(`${app.url}/API/x`)).body).toEqual({ upstream: 'beta', path: '/API/x' });
    const status = await getJson(`${app.url}/config`);
    expect(status.body).toMatchObject({ revision: 2, restartRequired: ['server', 'paths'] });
  });

  test('what did not change is carried over: rate-limit counters survive a reload of the routes', async () => {
    const limits = 'rateLimit: { limits: [{ points: 3, duration: 60 }] }\n';
    const file = tempFile(config(alpha, limits));
    app = await startConfigured(framework, { file }, { watch: WATCH });
    for (let i = 0; i < 2; i++) expect((await getJson(`${app.url}/local/${i}`)).status).toBe(200);
    const reloaded = nextEvent(runtimeOf(app), 'reload');
    replaceFile(file, config(beta, limits));
    await reloaded;
    expect((await getJson(`${app.url}/local/3`)).status).toBe(200);
    const limited = await getJson(`${app.url}/local/4`);
    expect(limited.status).toBe(429);
    expect((limited.body as { code: string }).code).toBe('GH_RATE_LIMITED');
  });

  test('files the configuration names are followed: the OpenAPI document, a secret file, an API-key file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
    const document = (pattern: string) =>
      [
        'openapi: 3.1.0',
        'info: { title: Followed, version: "1" }',
        'paths:',
        '  /local/{id}:',
        '    get:',
        `      parameters: [{ name: id, in: path, required: true, schema: { type: string, pattern: "${pattern}" } }]`,
        '      responses: { "200": { description: the item } }',
      ].join('\n');
    const secretOne = randomBytes(32);
    const secretTwo = randomBytes(32);
    writeFileSync(join(dir, 'openapi.yaml'), document('^[0-9]+$'));
    writeFileSync(join(dir, 'jwt.k'), `${secretOne.toString('base64url')}\n`);
    writeFileSync(join(dir, 'keys.json'), JSON.stringify([{ id: 'ci', key: 'ci-key-first-0123456789' }]));
    const file = join(dir, 'gatehouse.yaml');
    writeFileSync(
      file,
      [
        'openapi: { document: openapi.yaml }',
        'auth:',
        '  methods:',
        `    - jwt: { keys: [{ key: { kty: oct, k: "${'$'}{file:jwt.k}" }, alg: HS256 }], issuer: test, audience: api }`,
        '    - apiKey: { file: keys.json }',
        '  rules: [{ path: /hello, anonymous: true }]',
        'admin: { access: { peers: [loopback] } }',
      ].join('\n'),
    );
    app = await startConfigured(framework, { file }, { watch: WATCH });
    const runtime = runtimeOf(app);
    const token = (secret: Uint8Array) =>
      new SignJWT({ sub: 'ops' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('test')
        .setAudience('api')
        .setExpirationTime('5m')
        .sign(secret);
    const bearer = async (secret: Uint8Array) => ({
      headers: { authorization: `Bearer ${await token(secret)}` },
    });
    expect((await getJson(`${app.url}/local/123`, await bearer(secretOne))).status).toBe(200);
    expect((await getJson(`${app.url}/local/abc`, await bearer(secretOne))).status).toBe(400);

    // Only the document changes: it is compiled again, and the next requests are judged by it.
    let reloaded = nextEvent<ReloadResult>(runtime, 'reload');
    replaceFile(join(dir, 'openapi.yaml'), document('^[a-z]+$'));
    expect(await reloaded).toMatchObject({ outcome: 'applied', revision: 2, changed: ['openapi'] });
    expect((await getJson(`${app.url}/local/abc`, await bearer(secretOne))).status).toBe(200);
    expect((await getJson(`${app.url}/local/123`, await bearer(secretOne))).status).toBe(400);

    // A rotated secret (\${file:…}): tokens signed with the old one are refused, the new one's admitted.
    reloaded = nextEvent<ReloadResult>(runtime, 'reload');
    replaceFile(join(dir, 'jwt.k'), `${secretTwo.toString('base64url')}\n`);
    expect(await reloaded).toMatchObject({ outcome: 'applied', revision: 3, changed: ['auth'] });
    expect((await getJson(`${app.url}/local/abc`, await bearer(secretOne))).status).toBe(401);
    expect((await getJson(`${app.url}/local/abc`, await bearer(secretTwo))).status).toBe(200);

    // The API-key file, which the authenticator reads once: a new version is a new authenticator.
    const ci = (key: string) => ({ headers: { 'x-api-key': key } });
    expect((await getJson(`${app.url}/local/abc`, ci('ci-key-first-0123456789'))).status).toBe(200);
    reloaded = nextEvent<ReloadResult>(runtime, 'reload');
    replaceFile(join(dir, 'keys.json'), JSON.stringify([{ id: 'ci', key: 'ci-key-second-0123456789' }]));
    expect(await reloaded).toMatchObject({ outcome: 'applied', revision: 4, changed: ['auth'] });
    expect((await getJson(`${app.url}/local/abc`, ci('ci-key-first-0123456789'))).status).toBe(401);
    expect((await getJson(`${app.url}/local/abc`, ci('ci-key-second-0123456789'))).status).toBe(200);

    // A document that no longer parses is a rejected reload; the last good one stays.
    const rejected = nextEvent<{ problems: { path: string; message: string }[] }>(runtime, 'reject');
    replaceFile(join(dir, 'openapi.yaml'), 'openapi: [');
    expect((await rejected).problems.length).toBeGreaterThan(0);
    expect((await getJson(`${app.url}/local/abc`, await bearer(secretTwo))).status).toBe(200);
    expect(runtime.revision).toBe(4);
  });

  test('the same text again (a touch) changes nothing; POST /config/reload answers what happened', async () => {
    const file = tempFile(config(alpha));
    app = await startConfigured(framework, { file }, { watch: false });
    const unchanged = await getJson(`${app.url}/config/reload`, { method: 'POST' });
    expect(unchanged.body).toMatchObject({ outcome: 'unchanged', revision: 1, changed: [] });
    writeFileSync(file, config(alpha).replace('service: api', 'service: nope'));
    const refused = await getJson(`${app.url}/config/reload`, { method: 'POST' });
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.body).toMatchObject({
      code: 'GH_CONFIG_RELOAD_REJECTED',
      problems: [{ path: 'routes[0].service', source: { file: 'gatehouse.yaml', line: 6 } }],
    });
    writeFileSync(file, config(beta));
    const applied = await getJson(`${app.url}/config/reload`, { method: 'POST' });
    expect(applied.body).toMatchObject({ outcome: 'applied', revision: 2 });
  });
});

test('a busy directory (a log written beside the file) does not keep a change from being read', async () => {
  const file = tempFile(config(alpha));
  app = await startConfigured('express5', { file }, { watch: WATCH });
  const noise = join(file, '..', 'access.log');
  let writing = true;
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      appendFileSync(noise, `line ${i}\n`);
      await new Promise((r) => setTimeout(r, 3));
    }
  })();
  try {
    await new Promise((r) => setTimeout(r, 100));
    const reloaded = nextEvent(runtimeOf(app), 'reload', 2_000);
    replaceFile(file, config(beta));
    // Applied while the log is still being written (the debounce waits for the file, not the directory).
    await reloaded;
    expect(writing).toBe(true);
  } finally {
    writing = false;
    await writer;
  }
});

const etcdAbsent = etcdMissing();
describe.skipIf(etcdAbsent !== undefined && !ON_CI)('reload from an etcd key', () => {
  let etcd: EtcdServer;
  beforeAll(async () => {
    if (etcdAbsent !== undefined) throw new Error(`CI=true and ${etcdAbsent}`);
    etcd = await startEtcd();
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  test.each(['express5', 'koa3'] as const)(
    '%s: a change is applied, a bad one rejected with paths, the last good kept',
    async (framework) => {
      const key = `/gatehouse/config/${framework}`;
      await etcd.put(key, config(alpha));
      const { gatewayFromEtcd: fromExpress } = await import('@gatehousejs/express');
      const { gatewayFromEtcd: fromKoa } = await import('@gatehousejs/koa');
      const made =
        framework === 'express5'
          ? await fromExpress({ hosts: etcd.url, key })
          : await fromKoa({ hosts: etcd.url, key });
      const runtime = made.configuration as ConfigRuntime;
      try {
        expect(runtime.loaded.origin).toBe('code');
        const rejected = nextEvent<{ problems: { path: string; message: string }[] }>(runtime, 'reject');
        await etcd.put(key, config(alpha).replace('service: api', 'service: apx'));
        expect((await rejected).problems).toEqual([
          {
            path: 'routes[0].service',
            message: `unknown service 'apx' — did you mean 'api'? (services: api) (in etcd:${key})`,
          },
        ]);
        const reloaded = nextEvent<ReloadResult>(runtime, 'reload');
        await etcd.put(key, config(beta));
        expect(await reloaded).toMatchObject({ outcome: 'applied', revision: 2 });
        expect(runtime.loaded.config.services?.api?.url).toBe(beta.url);
      } finally {
        await made.close({ deadlineMs: 500 });
      }
    },
  );
});

async function waitUntil(condition: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

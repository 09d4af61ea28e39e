// Bad input and faults on the routes, on Express and Koa over real sockets: services that are down,
// slow, or break mid-answer; fallbacks replaying the body; shadow copies that must never cost the
// client anything; bodies too large to copy; and a body parser mounted in the wrong place.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echo, startUpstream, type Upstream } from './harness.js';
import {
  type App,
  closeBoth,
  closedPort,
  expectProblemOnBoth,
  FRAMEWORKS,
  type Framework,
  report,
  sha256,
  startBoth,
  waitFor,
  within,
} from './support.js';

const MiB = 1024 * 1024;
const ROUTE_TIMEOUT_MS = 300;
const SLOW_MS = 1_500;
const SHADOW_SLOW_MS = 2_000;

/** Answers like `echo`, `ms` later. */
const slowly = (ms: number) => (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
  setTimeout(() => echo(req, res, body), ms);
};

async function call(app: App, path: string, init: { method?: string; json?: unknown } = {}) {
  const started = performance.now();
  const res = await request(`${app.url}${path}`, {
    method: (init.method ?? 'GET') as 'GET',
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
    headers: init.json === undefined ? {} : { 'content-type': 'application/json' },
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    json: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
    ms: performance.now() - started,
  };
}

let orders: Upstream;
let slow: Upstream;
let shadowSlow: Upstream;
let failing: Upstream;
let midBody: Upstream;
let early: Upstream;
let copies: Upstream;
let downUrl: string;
let apps: Record<Framework, App>;

beforeAll(async () => {
  orders = await startUpstream();
  slow = await startUpstream(slowly(SLOW_MS));
  shadowSlow = await startUpstream(slowly(SHADOW_SLOW_MS));
  failing = await startUpstream((_req, res) => {
    res.statusCode = 500;
    res.setHeader('content-type', 'application/json');
    res.end('{"side":"remote","error":"boom"}');
  });
  // Headers and part of the body (a tenth of the announced length, or chunks without the last
  // chunk), then the connection is cut.
  midBody = await startUpstream((req, res) => {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (!req.url?.includes('chunked')) headers['content-length'] = '1000';
    res.writeHead(200, headers);
    res.write(Buffer.alloc(100, 0x61), () => res.socket?.destroy());
  });
  early = await startUpstream((req) => {
    req.socket.destroy();
  });
  copies = await startUpstream();
  downUrl = `http://127.0.0.1:${await closedPort()}`;
  const service = (url: string) => ({ url });
  apps = await startBoth({
    config: {
      // One service per scenario: each has its own client, so one scenario's failures never open a
      // breaker another scenario depends on.
      services: {
        orders: service(orders.url),
        down: service(downUrl),
        slow: service(slow.url),
        'mid-body': service(midBody.url),
        early: service(early.url),
        'fb-down': service(downUrl),
        'fb-slow': service(slow.url),
        'fb-failing': service(failing.url),
        'fb-connect-only': service(failing.url),
        'shadow-slow': service(shadowSlow.url),
        'shadow-down': service(downUrl),
        'shadow-big': service(copies.url),
        copies: service(copies.url),
      },
    },
    routes: {
      table: [
        { name: 'orders', path: '/orders/*', service: 'orders' },
        { name: 'down', path: '/down/*', service: 'down' },
        { name: 'slow', path: '/slow/*', service: 'slow', timeoutMs: ROUTE_TIMEOUT_MS },
        { name: 'mid-body', path: '/mid-body/*', service: 'mid-body' },
        { name: 'early', path: '/early/*', service: 'early' },
        { name: 'fb-down', path: '/fb-down/*', service: 'fb-down', mode: 'fallback' },
        {
          name: 'fb-slow',
          path: '/fb-slow/*',
          service: 'fb-slow',
          mode: 'fallback',
          timeoutMs: ROUTE_TIMEOUT_MS,
          // Opted in: a POST that timed out is replayed locally (the service may have applied it too).
          fallback: { nonIdempotentOn: ['connect', 'circuit', 'timeout'] },
        },
        {
          name: 'fb-slow-post',
          path: '/fb-slow-post/*',
          service: 'fb-slow',
          mode: 'fallback',
          timeoutMs: ROUTE_TIMEOUT_MS,
        },
        { name: 'fb-failing', path: '/fb-failing/*', service: 'fb-failing', mode: 'fallback' },
        {
          name: 'fb-connect-only',
          path: '/fb-connect-only/*',
          service: 'fb-connect-only',
          mode: 'fallback',
          fallback: { on: ['connect'] },
        },
        {
          name: 'shadow-slow',
          path: '/shadow-slow/*',
          service: 'shadow-slow',
          mode: 'shadow',
          shadow: { maxConcurrent: 1, noiseSampleRate: 0 },
        },
        {
          name: 'shadow-down',
          path: '/shadow-down/*',
          service: 'shadow-down',
          mode: 'shadow',
          shadow: { noiseSampleRate: 0 },
        },
        {
          name: 'shadow-big',
          path: '/hash/*',
          service: 'shadow-big',
          mode: 'shadow',
          // PUT copied as well: the service here writes nowhere that the monolith reads.
          shadow: { noiseSampleRate: 0, methods: ['GET', 'HEAD', 'PUT'] },
        },
        {
          name: 'shadow-post',
          path: '/shadow-post/*',
          service: 'copies',
          mode: 'shadow',
          shadow: { noiseSampleRate: 0 },
        },
        {
          name: 'shadow-post-ok',
          path: '/shadow-post-ok/*',
          service: 'copies',
          mode: 'shadow',
          shadow: { noiseSampleRate: 0, methods: ['GET', 'POST'] },
        },
      ],
    },
  });
});

afterAll(async () => {
  // Upstreams first: shadow copies still waiting on the slow one fail at once instead of holding close().
  await Promise.all([orders, slow, shadowSlow, failing, midBody, early, copies].map((u) => u?.close()));
  await closeBoth(apps);
});

describe('upstream faults', () => {
  it('a service refusing connections is 503 GH_UPSTREAM_UNAVAILABLE', async () => {
    await expectProblemOnBoth(apps, { path: '/down/1' }, { status: 503, code: 'GH_UPSTREAM_UNAVAILABLE' });
  });

  it('a service slower than the route timeout is 504 GH_UPSTREAM_TIMEOUT, soon after the timeout', async () => {
    const started = performance.now();
    await expectProblemOnBoth(apps, { path: '/slow/1' }, { status: 504, code: 'GH_UPSTREAM_TIMEOUT' });
    // Both frameworks, one after the other: each must give up near the route's 300 ms, long before
    // the service would have answered.
    expect(performance.now() - started).toBeLessThan(2 * (ROUTE_TIMEOUT_MS + 400));
    expect(slow.received.length).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ['a content-length body', '/mid-body/1', '1000'],
    ['a chunked body', '/mid-body/chunked', undefined],
  ])(
    'a service resetting mid-body (%s) gives the client an incomplete response, never a hang; the gateway keeps serving',
    async (_name, path, length) => {
      for (const fw of FRAMEWORKS) {
        const app = apps[fw];
        const res = await within(request(`${app.url}${path}`), 3_000, `${fw}: the response head`);
        expect(res.statusCode, fw).toBe(200);
        expect(res.headers['content-length'], fw).toBe(length);
        const read = within(res.body.arrayBuffer(), 3_000, `${fw}: reading the body`);
        await expect(read, `${fw}: a cut body must not read as complete`).rejects.toThrow(
          /other side closed|terminated|aborted|socket/i,
        );
        const next = await call(app, '/orders/after-reset');
        expect(next.status, fw).toBe(200);
        expect(next.json, fw).toMatchObject({ side: 'remote', url: '/orders/after-reset' });
      }
    },
  );

  it('a service resetting before its headers is 502 GH_UPSTREAM_BAD_RESPONSE', async () => {
    await expectProblemOnBoth(apps, { path: '/early/1' }, { status: 502, code: 'GH_UPSTREAM_BAD_RESPONSE' });
  });
});

describe('fallback', () => {
  it('connection refused: local answers, with the PUT body replayed intact', async () => {
    for (const fw of FRAMEWORKS) {
      const res = await call(apps[fw], `/fb-down/${fw}`, { method: 'PUT', json: { n: 1, fw } });
      expect(res.json, fw).toEqual({
        side: 'local',
        method: 'PUT',
        url: `/fb-down/${fw}`,
        body: { n: 1, fw },
      });
      expect(report(apps[fw], 'fb-down').fallbacks.total, fw).toEqual({ connect: 1 });
    }
  });

  it('timeout: local answers, with the POST body replayed intact (fallback.nonIdempotentOn opts in)', async () => {
    for (const fw of FRAMEWORKS) {
      const res = await call(apps[fw], `/fb-slow/${fw}`, { method: 'POST', json: { n: 2, fw } });
      expect(res.json, fw).toEqual({
        side: 'local',
        method: 'POST',
        url: `/fb-slow/${fw}`,
        body: { n: 2, fw },
      });
      expect(res.ms, fw).toBeLessThan(ROUTE_TIMEOUT_MS + 500);
      expect(report(apps[fw], 'fb-slow').fallbacks.total, fw).toEqual({ timeout: 1 });
    }
    // The service did get the body: what local received was a replay, not the only copy.
    expect(slow.received.filter((r) => r.url.startsWith('/fb-slow/')).map((r) => JSON.parse(r.body))).toEqual(
      FRAMEWORKS.map((fw) => ({ n: 2, fw })),
    );
  });

  it('a 5xx: local answers, with the PUT body replayed intact', async () => {
    for (const fw of FRAMEWORKS) {
      const res = await call(apps[fw], `/fb-failing/${fw}`, { method: 'PUT', json: { n: 3, fw } });
      expect(res.json, fw).toEqual({
        side: 'local',
        method: 'PUT',
        url: `/fb-failing/${fw}`,
        body: { n: 3, fw },
      });
      expect(report(apps[fw], 'fb-failing').fallbacks.total, fw).toEqual({ '5xx': 1 });
    }
  });

  it('a POST the service may have applied is not replayed by default (timeout: 504, 5xx: passed through); a refused one is', async () => {
    for (const fw of FRAMEWORKS) {
      const before = apps[fw].local.length;
      const slowPost = await call(apps[fw], `/fb-slow-post/${fw}`, { method: 'POST', json: { n: 5 } });
      expect(slowPost.status, fw).toBe(504);
      expect(slowPost.json, fw).toMatchObject({ code: 'GH_UPSTREAM_TIMEOUT' });
      const failing = await call(apps[fw], `/fb-failing/${fw}-post`, { method: 'POST', json: { n: 6 } });
      expect(failing.status, fw).toBe(500);
      expect(failing.json, fw).toEqual({ side: 'remote', error: 'boom' });
      expect(apps[fw].local.length, `${fw}: local must not answer`).toBe(before);
      // Refused: the service never saw it, so local answers with the body.
      const refused = await call(apps[fw], `/fb-down/${fw}-post`, { method: 'POST', json: { n: 7 } });
      expect(refused.json, fw).toEqual({
        side: 'local',
        method: 'POST',
        url: `/fb-down/${fw}-post`,
        body: { n: 7 },
      });
      expect(report(apps[fw], 'fb-slow-post').fallbacks.total, fw).toEqual({});
      // The second refusal may find the service's circuit already open: either never reached it.
      const taken = report(apps[fw], 'fb-down').fallbacks.total;
      expect(
        Object.keys(taken).every((reason) => reason === 'connect' || reason === 'circuit'),
        fw,
      ).toBe(true);
      expect((taken.connect ?? 0) + (taken.circuit ?? 0), fw).toBe(2);
    }
  });

  it("fallback.on: ['connect'] passes a 5xx from the service through", async () => {
    for (const fw of FRAMEWORKS) {
      const before = apps[fw].local.length;
      const res = await call(apps[fw], `/fb-connect-only/${fw}`, { method: 'PUT', json: { n: 4 } });
      expect(res.status, fw).toBe(500);
      expect(res.json, fw).toEqual({ side: 'remote', error: 'boom' });
      expect(apps[fw].local.length, `${fw}: local must not answer`).toBe(before);
      expect(report(apps[fw], 'fb-connect-only').fallbacks.total, fw).toEqual({});
    }
  });
});

describe('shadow', () => {
  it('a slow shadow service changes neither the answer nor its latency; maxConcurrent bounds copies in flight', async () => {
    for (const fw of FRAMEWORKS) {
      const app = apps[fw];
      // The same handler without a route, for what the answer must look like.
      const plain = await call(app, `/unrouted/${fw}`);
      const first = await call(app, `/shadow-slow/${fw}-1`);
      expect(first.json, fw).toEqual({ ...plain.json, url: `/shadow-slow/${fw}-1` });
      expect(first.ms, `${fw}: latency with a ${SHADOW_SLOW_MS} ms shadow`).toBeLessThan(200);
      // The copy is now at the service, which holds it for 2 s: the only slot is taken.
      await waitFor(
        () => shadowSlow.received.some((r) => r.url === `/shadow-slow/${fw}-1`),
        2_000,
        'the copy',
      );
      for (const n of [2, 3]) {
        const next = await call(app, `/shadow-slow/${fw}-${n}`);
        expect(next.json, fw).toMatchObject({ side: 'local', url: `/shadow-slow/${fw}-${n}` });
        expect(next.ms, fw).toBeLessThan(200);
      }
      const line = report(app, 'shadow-slow');
      expect(line.shadow.inflight, fw).toBe(1);
      expect(line.shadow.skipped.total, fw).toEqual({ concurrency: 2 });
      expect(shadowSlow.received.filter((r) => r.url.startsWith(`/shadow-slow/${fw}-`)).length, fw).toBe(1);
    }
  });

  it('a shadow service that is down changes nothing for the client', async () => {
    for (const fw of FRAMEWORKS) {
      const app = apps[fw];
      const res = await call(app, `/shadow-down/${fw}`);
      expect(res.status, fw).toBe(200);
      expect(res.json, fw).toEqual({ side: 'local', method: 'GET', url: `/shadow-down/${fw}`, body: null });
      expect(res.ms, fw).toBeLessThan(200);
      // The copy was tried and failed, off the client's path.
      await waitFor(() => report(app, 'shadow-down').remote.total.requests === 1, 3_000, 'the failed copy');
      expect(report(app, 'shadow-down').remote.stage.errors, fw).toBe(1);
    }
  });

  it('a 10 MB body on a shadowed route reaches local intact and streaming; the copy is skipped', async () => {
    const data = randomBytes(10 * MiB);
    for (const fw of FRAMEWORKS) {
      const app = apps[fw];
      const sent = 2 * MiB;
      // The client holds back the last 8 MB until the local handler has read well past the shadow's
      // 1 MiB limit: a gateway that buffered the whole body would never get there.
      async function* body() {
        for (let at = 0; at < data.length; at += 64 * 1024) {
          if (at === sent) {
            await waitFor(
              () => app.progress.bytes >= 1.5 * MiB,
              5_000,
              `${fw}: the local handler to read 1.5 MB`,
            );
          }
          yield data.subarray(at, at + 64 * 1024);
        }
      }
      const res = await request(`${app.url}/hash/${fw}`, {
        method: 'PUT',
        body: Readable.from(body()),
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
      });
      expect(res.statusCode, fw).toBe(200);
      expect(await res.body.json(), fw).toEqual({
        side: 'local',
        method: 'PUT',
        length: data.length,
        sha256: sha256(data),
      });
      expect(report(app, 'shadow-big').shadow.skipped.total, fw).toEqual({ 'body-too-large': 1 });
      // A small body on the same route is copied; once its copy arrived, the large one would have too.
      const small = await request(`${app.url}/hash/${fw}-small`, { method: 'PUT', body: 'small' });
      expect(await small.body.json(), fw).toMatchObject({ length: 5 });
      await waitFor(
        () => copies.received.some((r) => r.url === `/hash/${fw}-small`),
        3_000,
        'the small copy',
      );
      expect(
        copies.received.filter((r) => r.url.startsWith(`/hash/${fw}`)).map((r) => r.url),
        fw,
      ).toEqual([`/hash/${fw}-small`]);
    }
  });

  it('POST is copied only when shadow.methods lists it', async () => {
    for (const fw of FRAMEWORKS) {
      const app = apps[fw];
      const res = await call(app, `/shadow-post/${fw}`, { method: 'POST', json: { p: 1 } });
      expect(res.json, fw).toMatchObject({ side: 'local', body: { p: 1 } });
      expect(report(app, 'shadow-post').shadow.skipped.total, fw).toEqual({ method: 1 });
      const ok = await call(app, `/shadow-post-ok/${fw}`, { method: 'POST', json: { p: 2 } });
      expect(ok.json, fw).toMatchObject({ side: 'local', body: { p: 2 } });
      // A GET on the first route is copied: once it and the allowed POST have arrived, a POST copy
      // sent before them would have too.
      await call(app, `/shadow-post/${fw}-get`);
      await waitFor(
        () =>
          copies.received.some((r) => r.url === `/shadow-post/${fw}-get`) &&
          copies.received.some((r) => r.url === `/shadow-post-ok/${fw}`),
        3_000,
        'the copies',
      );
      const seen = copies.received.filter(
        (r) => r.url.includes(`/${fw}`) && r.url.startsWith('/shadow-post'),
      );
      expect(seen.map((r) => `${r.method} ${r.url} ${r.body}`).sort(), fw).toEqual(
        [`GET /shadow-post/${fw}-get `, `POST /shadow-post-ok/${fw} {"p":2}`].sort(),
      );
    }
  });
});

describe('a body parser mounted before the routes', () => {
  let misordered: Record<Framework, App>;
  let target: Upstream;
  beforeAll(async () => {
    target = await startUpstream();
    misordered = await startBoth({
      config: { services: { orders: { url: target.url } } },
      parserFirst: true,
      routes: { table: [{ name: 'orders', path: '/orders/*', service: 'orders' }] },
    });
  });
  afterAll(async () => {
    await target?.close();
    await closeBoth(misordered);
  });

  it('is 500 GH_ROUTE_BODY_CONSUMED on a proxied request with a body; the service gets nothing', async () => {
    await expectProblemOnBoth(
      misordered,
      { method: 'POST', path: '/orders/1', headers: { 'content-type': 'application/json' }, body: '{"a":1}' },
      { status: 500, code: 'GH_ROUTE_BODY_CONSUMED' },
    );
    expect(target.received).toEqual([]);
    // Without a body there is nothing to lose: the same route proxies.
    for (const fw of FRAMEWORKS) {
      const res = await call(misordered[fw], '/orders/2');
      expect(res.json, fw).toMatchObject({ side: 'remote', url: '/orders/2' });
    }
  });
});

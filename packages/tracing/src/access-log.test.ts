// The access log over real sockets, through Express 5 and 4 and Koa 3 and 2 apps built from the same
// routes.
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { type IncomingHttpHeaders, request, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { ConfigError, errorChannel, type Middleware, requestId } from '@gatehousejs/core';
import { gateway as expressGateway } from '@gatehousejs/express';
import { gateway as koaGateway } from '@gatehousejs/koa';
import Router from '@koa/router';
import { trace } from '@opentelemetry/api';
import express from 'express';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AccessLogger, type AccessLogOptions, accessLog } from './access-log.js';
import './state.js';

type Framework = 'express5' | 'express4' | 'koa3' | 'koa2';
const FRAMEWORKS: readonly Framework[] = ['express5', 'express4', 'koa3', 'koa2'];
// Express 4 and Koa 2 are installed beside the current majors under npm aliases (the test workspace's
// `express4` and `koa2`), typed here as the current majors, whose API these routes share.
const requireHere = createRequire(import.meta.url);
const EXPRESS: Partial<Record<Framework, typeof express>> = {
  express5: express,
  express4: requireHere('express4') as typeof express,
};
const KOA: Partial<Record<Framework, typeof Koa>> = { koa3: Koa, koa2: requireHere('koa2') as typeof Koa };
type Line = Record<string, unknown>;

const FAILURE_MESSAGE = 'db password is hunter2';
const USER_AGENT = 'gatehouse-test';

interface App {
  port: number;
  reported: Array<{ error: unknown; phase: string }>;
  close(): Promise<void>;
}

async function listen(server: Server, reported: App['reported']): Promise<App> {
  if (!server.listening) await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    reported,
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

/** The same routes on every framework; `chain` is mounted through the gateway's `use()`. */
function start(framework: Framework, chain: Middleware[]): Promise<App> {
  const reported: App['reported'] = [];
  const onError = (error: unknown, { phase }: { phase: string }) => reported.push({ error, phase });
  const expressOf = EXPRESS[framework];
  if (expressOf !== undefined) {
    const gw = expressGateway({}, { onError });
    const app = expressOf();
    app.use(gw.use(...chain));
    app.get('/items/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    app.post('/upload', async (req, res) => {
      let size = 0;
      for await (const chunk of req) size += (chunk as Buffer).length;
      res.json({ size });
    });
    app.get('/boom', () => {
      throw new Error(FAILURE_MESSAGE);
    });
    app.get('/chunked', (_req, res) => {
      res.status(200);
      res.write('abc');
      res.end('defg');
    });
    app.get('/hang', (_req, res) => {
      res.status(200);
      res.write('partial');
    });
    app.use(gw.errors());
    return listen(app.listen(0, '127.0.0.1'), reported);
  }
  const gw = koaGateway({}, { onError });
  const app = new KOA[framework]!();
  app.silent = true;
  const router = new Router();
  app.use(gw.errors());
  app.use(gw.use(...chain));
  router.get('/items/:id', (ctx) => {
    ctx.body = { id: ctx.params.id };
  });
  router.post('/upload', async (ctx) => {
    let size = 0;
    for await (const chunk of ctx.req) size += (chunk as Buffer).length;
    ctx.body = { size };
  });
  router.get('/boom', () => {
    throw new Error(FAILURE_MESSAGE);
  });
  router.get('/chunked', (ctx) => {
    ctx.body = Readable.from(['abc', 'defg']);
  });
  router.get('/hang', (ctx) => {
    const body = new PassThrough();
    body.write('partial');
    ctx.body = body;
  });
  app.use(router.routes());
  return listen(app.listen(0, '127.0.0.1'), reported);
}

interface Sent {
  method?: string;
  headers?: Record<string, string>;
  /** One string is sent with Content-Length; several are sent chunked. */
  body?: string | string[];
}

function send(
  port: number,
  path: string,
  { method = 'GET', headers = {}, body }: Sent = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent: false,
        headers: { 'user-agent': USER_AGENT, ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (typeof body === 'string') {
      req.setHeader('content-length', Buffer.byteLength(body));
      req.end(body);
    } else if (body !== undefined) {
      for (const chunk of body) req.write(chunk);
      req.end();
    } else {
      req.end();
    }
  });
}

/** Reads the first bytes of the response, then goes away. */
function abandon(port: number, path: string): Promise<void> {
  return new Promise((resolve) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      agent: false,
      headers: { 'user-agent': USER_AGENT },
    });
    req.on('response', (res) => res.once('data', () => req.destroy()));
    req.on('error', () => {});
    req.on('close', () => resolve());
    req.end();
  });
}

/** A logger that keeps every line as the JSON a real logger would write. */
function capture(): AccessLogger & { lines: Line[]; messages: Array<string | undefined> } {
  const lines: Line[] = [];
  const messages: Array<string | undefined> = [];
  return {
    lines,
    messages,
    info(obj, msg) {
      lines.push(JSON.parse(JSON.stringify(obj)) as Line);
      messages.push(msg);
    },
  };
}

const logged = (lines: readonly unknown[], count: number) =>
  vi.waitFor(() => expect(lines.length).toBeGreaterThanOrEqual(count), { timeout: 5000, interval: 5 });

/** Sends one request and returns the line it produced. */
async function exchange(app: App, lines: Line[], path: string, sent?: Sent): Promise<Line> {
  const before = lines.length;
  await send(app.port, path, sent);
  await logged(lines, before + 1);
  return lines[before]!;
}

const annotate = (values: Record<string, string | number | boolean>): Middleware =>
  ({
    name: 'annotate',
    onRequest(exchange) {
      for (const [key, value] of Object.entries(values)) exchange.annotate(key, value);
    },
  }) satisfies Middleware;

describe('the same requests on every framework', () => {
  const results = new Map<Framework, { lines: Line[]; messages: Array<string | undefined>; app: App }>();

  beforeAll(async () => {
    for (const framework of FRAMEWORKS) {
      const logger = capture();
      const app = await start(framework, [requestId(), accessLog({ logger })]);
      const { lines } = logger;
      await exchange(app, lines, '/items/7?token=query-secret');
      await exchange(app, lines, '/missing');
      await exchange(app, lines, '/boom');
      await exchange(app, lines, '/a%2fb');
      await exchange(app, lines, '/upload', { method: 'POST', body: 'hello world' });
      await exchange(app, lines, '/upload', { method: 'POST', body: ['hello', ' world!'] });
      const chunked = await send(app.port, '/chunked');
      expect(chunked.headers['transfer-encoding']).toBe('chunked');
      expect(chunked.body).toBe('abcdefg');
      await logged(lines, 7);
      await exchange(app, lines, '/items/7', { method: 'HEAD' });
      await abandon(app.port, '/hang');
      await logged(lines, 9);
      results.set(framework, { ...logger, app });
    }
  });

  afterAll(async () => {
    for (const { app } of results.values()) await app.close();
  });

  const line = (framework: Framework, i: number) => results.get(framework)!.lines[i]!;

  it.each(FRAMEWORKS)('%s: a 200 has every field, and the query is dropped by default', (framework) => {
    expect(line(framework, 0)).toEqual({
      request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      method: 'GET',
      path: '/items/7',
      route: '/items/:id',
      status: 200,
      completed: true,
      duration_ms: expect.any(Number),
      bytes_in: 0,
      bytes_out: Buffer.byteLength('{"id":"7"}'),
      client_ip: '127.0.0.1',
      headers: { 'user-agent': USER_AGENT },
    });
    const duration = line(framework, 0).duration_ms as number;
    expect(duration).toBeGreaterThanOrEqual(0);
    expect(Math.round(duration * 1000)).toBeCloseTo(duration * 1000, 6);
    expect(results.get(framework)!.messages.every((m) => m === 'request')).toBe(true);
    expect(JSON.stringify(results.get(framework)!.lines)).not.toContain('query-secret');
  });

  it.each(FRAMEWORKS)('%s: a 404 problem carries its error code', (framework) => {
    expect(line(framework, 1)).toMatchObject({ path: '/missing', status: 404, error_code: 'GH_NOT_FOUND' });
    expect(line(framework, 1)).not.toHaveProperty('route');
    expect(line(framework, 1).bytes_out).toBeGreaterThan(0);
  });

  it.each(FRAMEWORKS)('%s: a thrown 500 logs the code, never the message or the stack', (framework) => {
    const boom = line(framework, 2);
    expect(boom).toMatchObject({ path: '/boom', status: 500, completed: true, error_code: 'GH_INTERNAL' });
    const text = JSON.stringify(boom);
    expect(text).not.toContain('hunter2');
    expect(text).not.toMatch(/stack|\bat \S+:\d+|Error:/);
    // The failure still reached the gateway's error report.
    expect(results.get(framework)!.app.reported.map((r) => (r.error as Error).message)).toContain(
      FAILURE_MESSAGE,
    );
  });

  it.each(FRAMEWORKS)('%s: a path refused at the edge is logged with its problem code', (framework) => {
    expect(line(framework, 3)).toMatchObject({
      request_id: expect.any(String),
      path: '/a%2fb',
      status: 400,
      completed: true,
      error_code: 'GH_PATH_ENCODED_SLASH',
      bytes_in: 0,
    });
  });

  it.each(FRAMEWORKS)('%s: bytes in, with Content-Length and chunked', (framework) => {
    expect(line(framework, 4)).toMatchObject({ method: 'POST', status: 200, bytes_in: 11, bytes_out: 11 });
    expect(line(framework, 5)).toMatchObject({ method: 'POST', status: 200, bytes_in: 12, bytes_out: 11 });
  });

  it.each(FRAMEWORKS)('%s: a chunked response reports its body bytes; HEAD reports none', (framework) => {
    expect(line(framework, 6)).toMatchObject({ path: '/chunked', status: 200, bytes_out: 7 });
    expect(line(framework, 7)).toMatchObject({ method: 'HEAD', status: 200, bytes_out: 0 });
  });

  it.each(FRAMEWORKS)('%s: a client that went away is logged as not completed', (framework) => {
    expect(line(framework, 8)).toMatchObject({ path: '/hang', status: 200, completed: false, bytes_out: 7 });
  });

  it('gives the same lines on every framework, apart from timing and ids', () => {
    const normalized = (framework: Framework) =>
      results.get(framework)!.lines.map(({ request_id, duration_ms, ...rest }) => ({
        ...rest,
        request_id: typeof request_id,
        duration_ms: typeof duration_ms,
      }));
    for (const framework of FRAMEWORKS) {
      expect(normalized(framework), framework).toEqual(normalized(FRAMEWORKS[0]!));
    }
  });
});

describe.each(FRAMEWORKS)('%s', (framework) => {
  async function run<T>(chain: Middleware[], fn: (app: App) => Promise<T>): Promise<T> {
    const app = await start(framework, chain);
    try {
      return await fn(app);
    } finally {
      await app.close();
    }
  }

  const secrets = {
    authorization: 'Bearer hidden-1',
    'proxy-authorization': 'Basic hidden-2',
    cookie: 'sid=hidden-3',
    'x-api-key': 'hidden-4',
    'x-tenant-secret': 'hidden-5',
  };

  it('redacts secret headers, configured names and annotations, and query values', async () => {
    const logger = capture();
    const log = accessLog({
      logger,
      headers: [
        'user-agent',
        'Authorization',
        'proxy-authorization',
        'cookie',
        'x-api-key',
        'x-tenant-secret',
        'x-visible',
      ],
      redact: ['X-Tenant-Secret', 'app.secret'],
      queryParameters: ['page'],
    });
    const notes = annotate({
      'gatehouse.principal.id': 'user-42',
      'gatehouse.upstream': 'orders',
      'gatehouse.api.version': '2',
      'app.secret': 'hidden-6',
      'app.count': 3,
    });
    const entry = await run([log, notes], (app) =>
      exchange(app, logger.lines, '/items/7?page=2&token=hidden-7&token=hidden-8', {
        headers: { ...secrets, 'x-visible': 'shown' },
      }),
    );
    expect(entry).toMatchObject({
      query: { page: '2', token: ['[redacted]', '[redacted]'] },
      principal: 'user-42',
      upstream: 'orders',
      api_version: '2',
      headers: {
        'user-agent': USER_AGENT,
        authorization: '[redacted]',
        'proxy-authorization': '[redacted]',
        cookie: '[redacted]',
        'x-api-key': '[redacted]',
        'x-tenant-secret': '[redacted]',
        'x-visible': 'shown',
      },
      annotations: { 'app.secret': '[redacted]', 'app.count': 3 },
    });
    // The principal, upstream and API version have fields of their own and are not repeated.
    expect(Object.keys((entry as { annotations: object }).annotations).sort()).toEqual([
      'app.count',
      'app.secret',
    ]);
    // Every secret value is 'hidden-N'.
    expect(JSON.stringify(entry)).not.toContain('hidden');
  });

  it('logs only the default headers, never the query, and redacts a principal when asked', async () => {
    const logger = capture();
    const log = accessLog({ logger, redact: ['gatehouse.principal.id'] });
    const entry = await run([log, annotate({ 'gatehouse.principal.id': 'user-42' })], (app) =>
      exchange(app, logger.lines, '/items/7?token=query-secret', {
        headers: { ...secrets, referer: 'https://example.test/', 'x-visible': 'shown' },
      }),
    );
    expect(entry.headers).toEqual({ 'user-agent': USER_AGENT, referer: 'https://example.test/' });
    expect(entry.principal).toBe('[redacted]');
    expect(entry).not.toHaveProperty('query');
    expect(entry).not.toHaveProperty('annotations');
    expect(JSON.stringify(entry)).not.toMatch(/hidden|query-secret|user-42/);
  });

  it('logs the trace and span ids of a valid span only', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const spanId = '00f067aa0ba902b7';
    const withSpan = (ids: { traceId: string; spanId: string }): Middleware => ({
      name: 'span',
      onRequest(exchange) {
        exchange.state.span = trace.wrapSpanContext({ ...ids, traceFlags: 1 });
      },
    });
    const logger = capture();
    const log = accessLog({ logger });
    await run([log, withSpan({ traceId, spanId })], (app) => exchange(app, logger.lines, '/items/1'));
    await run([log, withSpan({ traceId: '0'.repeat(32), spanId: '0'.repeat(16) })], (app) =>
      exchange(app, logger.lines, '/items/2'),
    );
    await run([log], (app) => exchange(app, logger.lines, '/items/3'));
    expect(logger.lines[0]).toMatchObject({ trace_id: traceId, span_id: spanId });
    for (const entry of logger.lines.slice(1)) {
      expect(entry).not.toHaveProperty('trace_id');
      expect(entry).not.toHaveProperty('span_id');
    }
  });

  it('never breaks the response when the logger throws', async () => {
    const log = accessLog({
      logger: {
        info() {
          throw new Error('disk full');
        },
      },
    });
    await run([log], async (app) => {
      const first = await send(app.port, '/items/9');
      const second = await send(app.port, '/a%2fb');
      expect(first).toMatchObject({ status: 200, body: '{"id":"9"}' });
      expect(second.status).toBe(400);
      await vi.waitFor(() => expect(app.reported).toHaveLength(2));
      expect(app.reported.map((r) => r.phase)).toEqual(['accessLog.onFinish', 'accessLog.onFinish']);
    });
  });
});

describe('the default pino logger', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-access-log-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes one JSON line per request to a file, flushed by close()', async () => {
    const file = join(dir, 'access.log');
    const log = accessLog({ destination: file, headers: ['user-agent', 'authorization'], message: 'done' });
    for (const framework of FRAMEWORKS) {
      const app = await start(framework, [requestId(), log]);
      await send(app.port, '/items/5', { headers: { authorization: 'Bearer file-secret' } });
      await send(app.port, '/missing');
      await app.close();
    }
    await log.close();
    await log.close();
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('file-secret');
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    expect(lines).toHaveLength(2 * FRAMEWORKS.length);
    for (const entry of lines) {
      expect(entry).toMatchObject({
        level: 30,
        time: expect.any(Number),
        msg: 'done',
        request_id: expect.any(String),
        method: 'GET',
        completed: true,
        client_ip: '127.0.0.1',
      });
    }
    expect(lines[0]).toMatchObject({
      path: '/items/5',
      route: '/items/:id',
      status: 200,
      headers: { 'user-agent': USER_AGENT, authorization: '[redacted]' },
    });
    expect(lines[1]).toMatchObject({ path: '/missing', status: 404, error_code: 'GH_NOT_FOUND' });
    expect(lines.at(-1)).toMatchObject({ path: '/missing', status: 404, error_code: 'GH_NOT_FOUND' });
  });

  it('fails at creation when the destination cannot be opened', () => {
    expect(() => accessLog({ destination: join(dir, 'missing', 'dir', 'access.log') })).toThrow(/ENOENT/);
  });

  it('reports a failing destination instead of crashing the process', async () => {
    const reports: unknown[] = [];
    const listener = (message: unknown) => reports.push(message);
    errorChannel.subscribe(listener);
    try {
      const log = accessLog({ destination: 987_654 });
      const app = await start('express5', [log]);
      await send(app.port, '/items/1');
      await app.close();
      await vi.waitFor(() => expect(reports.length).toBeGreaterThan(0));
      expect(reports[0]).toMatchObject({ phase: 'accessLog', error: { code: 'EBADF' } });
      await log.close();
    } finally {
      errorChannel.unsubscribe(listener);
    }
  });
});

describe('options', () => {
  /** The problems of the one ConfigError creating the log throws, as `path: message` lines. */
  function problems(options: unknown): string[] {
    let thrown: unknown;
    try {
      accessLog(options as AccessLogOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    return (thrown as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }

  const bad: Array<[string, unknown, string[]]> = [
    ['headers', { headers: ['user agent'] }, ['accessLog.headers[0]: expected a header name']],
    [
      'headers',
      { headers: 'user-agent' },
      ["accessLog.headers: expected an array, received the string 'user-agent'"],
    ],
    ['redact', { redact: [''] }, ['accessLog.redact[0]: must not be empty']],
    [
      'queryParameters',
      { queryParameters: 'page' },
      ["accessLog.queryParameters: expected an array, received the string 'page'"],
    ],
    ['message', { message: 5 }, ['accessLog.message: expected a string, received the number 5']],
    [
      'logger',
      { logger: {} },
      [
        'accessLog.logger: expected a logger with an info(obj, msg) method (pino, for one), received an object',
      ],
    ],
    [
      'destination',
      { destination: -1 },
      ['accessLog.destination: expected a number ≥ 0, received the number -1'],
    ],
    ['destination', { destination: '' }, ['accessLog.destination: must not be empty']],
    [
      'destination',
      { destination: true },
      ['accessLog.destination: expected a file path or a file descriptor'],
    ],
    [
      'destination',
      { logger: capture(), destination: 2 },
      ["accessLog.destination: not allowed with 'logger' (it sets where the default pino logger writes)"],
    ],
    ['an unknown option', { header: ['x'] }, ["accessLog.header: unknown option; did you mean 'headers'?"]],
    ['the options themselves', null, ['accessLog: expected an object, received null']],
  ];

  it.each(bad)('rejects a bad %s when created, with one ConfigError', (_name, options, expected) => {
    expect(problems(options)).toEqual(expected);
  });

  it('reports every problem at once, at every depth, with a suggestion', () => {
    expect(
      problems({ logger: { info: 'x' }, destnation: 1, headers: ['ok', 7], redact: 'x-tenant', mesage: 'r' }),
    ).toEqual([
      'accessLog.logger: expected a logger with an info(obj, msg) method (pino, for one), received an object',
      "accessLog.destnation: unknown option; did you mean 'destination'?",
      'accessLog.headers[1]: expected a string, received the number 7',
      "accessLog.redact: expected an array, received the string 'x-tenant'",
      "accessLog.mesage: unknown option; did you mean 'message'?",
    ]);
  });

  it('always runs, so refused requests are logged too', () => {
    const log = accessLog({ logger: capture() });
    expect(log).toMatchObject({ name: 'accessLog', alwaysRun: true });
  });
});

// Test support for gateways built from one configuration: the same small application on every
// framework with `gw.mount(app)`, a log that records what the gateway logs, upstreams that say who they
// are and can hold answers, and atomic writes of configuration files.
import { once } from 'node:events';
import { renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  gatewayFromConfig as expressFromConfig,
  gatewayFromFile as expressFromFile,
} from '@gatehousejs/express';
import type { FrameworkGateway, FromConfigOptions } from '@gatehousejs/gateway';
import { gatewayFromConfig as koaFromConfig, gatewayFromFile as koaFromFile } from '@gatehousejs/koa';
import Router from '@koa/router';
import { expressOf, type Framework, isExpress, koaOf } from '../support/apps.js';

/** What a gateway logged (its `logger`) and reported (`onError`). */
export interface Captured {
  info: Array<{ obj: Record<string, unknown>; msg: string }>;
  errors: Array<{ obj: Record<string, unknown>; msg: string }>;
}

export function capture(): { captured: Captured; options: Pick<FromConfigOptions, 'logger'> } {
  const captured: Captured = { info: [], errors: [] };
  return {
    captured,
    options: {
      logger: {
        info: (obj, msg) => captured.info.push({ obj: obj as Record<string, unknown>, msg }),
        error: (obj, msg) => captured.errors.push({ obj: obj as Record<string, unknown>, msg }),
      },
    },
  };
}

export interface ConfiguredApp {
  framework: Framework;
  gw: FrameworkGateway<unknown>;
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * The application: `GET /local/:id` answers `{ local: id }` (the monolith's own handler), `GET /hello`
 * answers `{ hello: 'world' }`; everything else is the configuration's (mounted first) or a 404.
 */
export async function startConfigured(
  framework: Framework,
  from: { file: string } | { config: unknown },
  options: FromConfigOptions = {},
): Promise<ConfiguredApp> {
  let gw: FrameworkGateway<unknown>;
  let listener: (req: IncomingMessage, res: ServerResponse) => void;
  if (isExpress(framework)) {
    const made =
      'file' in from
        ? await expressFromFile(from.file, options)
        : await expressFromConfig(from.config, options);
    const app = expressOf(framework)();
    app.disable('x-powered-by');
    app.set('etag', false);
    made.mount(app);
    app.get('/local/:id', (req, res) => {
      res.json({ local: req.params.id });
    });
    app.get('/hello', (_req, res) => {
      res.json({ hello: 'world' });
    });
    app.use(made.errors());
    gw = made as unknown as FrameworkGateway<unknown>;
    listener = app;
  } else {
    const made =
      'file' in from ? await koaFromFile(from.file, options) : await koaFromConfig(from.config, options);
    const app = new (koaOf(framework))();
    app.silent = true;
    made.mount(app);
    const router = new Router();
    router.get('/local/:id', (ctx) => {
      ctx.body = { local: ctx.params.id };
    });
    router.get('/hello', (ctx) => {
      ctx.body = { hello: 'world' };
    });
    app.use(router.routes());
    gw = made as unknown as FrameworkGateway<unknown>;
    listener = app.callback();
  }
  const server = createServer(listener);
  gw.serve(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    framework,
    gw,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => gw.close({ deadlineMs: 1_000 }),
  };
}

/** An upstream that answers `{ upstream: name, path }` (and `x-upstream: name`), and can hold answers. */
export interface NamedUpstream {
  readonly name: string;
  readonly url: string;
  /** Requests received. */
  readonly hits: string[];
  /** Connections the client closed. */
  closedConnections(): number;
  /** Holds every answer until the returned function is called. */
  hold(): () => void;
  close(): Promise<void>;
}

export async function startUpstream(name: string): Promise<NamedUpstream> {
  const hits: string[] = [];
  let held: Promise<void> | undefined;
  let closed = 0;
  const server: Server = createServer(async (req, res) => {
    hits.push(req.url ?? '');
    if (held !== undefined) await held;
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
    res.end(JSON.stringify({ upstream: name, path: req.url }));
  });
  server.on('connection', (socket) => socket.on('close', () => closed++));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    name,
    url,
    hits,
    closedConnections: () => closed,
    hold() {
      let release!: () => void;
      held = new Promise((resolve) => {
        release = resolve;
      });
      return () => {
        held = undefined;
        release();
      };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Replaces a file in one step (written beside it, renamed over it): readers never see it half-written. */
export function replaceFile(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** The next `event` of `emitter`, or a failure after `ms`. */
export function nextEvent<T>(emitter: NodeJS.EventEmitter, event: string, ms = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no '${event}' within ${ms} ms`));
    }, ms);
    const on = (value: T) => {
      clearTimeout(timer);
      resolve(value);
    };
    emitter.once(event, on);
  });
}

export async function getJson(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the text.
  }
  return { status: res.status, headers: res.headers, body };
}

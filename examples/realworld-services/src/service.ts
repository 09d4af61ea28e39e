// A Conduit service on Koa: it serves some of the monolith's operation groups against the same
// database, answering with the same bytes. It trusts the caller identity the monolith's gateway signs
// and forwards (Gatehouse's identityAuthenticator, with the gateway's public key), runs Gatehouse itself for request ids,
// tracing and an access log, and has no token secret of its own.
import type { KeyObject } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { identityAuthenticator } from '@gatehousejs/auth';
import { exchangeOf, type GatewayConfig, type ResolvedConfig } from '@gatehousejs/core';
import {
  type Binding,
  createConduit,
  type Database,
  notFoundReply,
  type OperationGroup,
  operationsOf,
  type Rendered,
  render,
  serveOperation,
  userIdOf,
} from '@gatehousejs/example-realworld-core';
import { gateway, type KoaGateway } from '@gatehousejs/koa';
import type { AccessLogOptions } from '@gatehousejs/tracing';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';

export interface ServiceOptions {
  /** Names the service in logs. */
  name: string;
  /** The operation groups it serves. */
  groups: readonly OperationGroup[];
  db: Database;
  /** The public half of the gateway's identity-signing key (Ed25519). */
  identityKey: KeyObject;
  /** Gatehouse configuration for the service itself. Default: `{}`. */
  config?: GatewayConfig | ResolvedConfig;
  /** Where access-log lines go. Default: stdout. */
  accessLog?: AccessLogOptions;
  /** Faults that are not the client's (500s). Default: one line on stderr. */
  onError?: (error: unknown) => void;
}

export interface Service {
  readonly name: string;
  readonly app: Koa;
  readonly gw: KoaGateway;
  listen(port?: number, host?: string): Promise<string>;
  /** Stops gracefully: in-flight requests finish first. */
  close(): Promise<void>;
  /** Stops at once, as a crashed process would: every connection is cut and nothing is drained. */
  kill(): Promise<void>;
}

function write(ctx: Context, rendered: Rendered): void {
  ctx.status = rendered.status;
  if (rendered.cacheControl !== undefined) ctx.set('cache-control', rendered.cacheControl);
  if (rendered.body === undefined) return;
  ctx.set('content-type', rendered.contentType!);
  ctx.body = rendered.body;
}

const METHODS = { GET: 'get', POST: 'post', PUT: 'put', DELETE: 'delete' } as const;

export function createService(options: ServiceOptions): Service {
  const conduit = createConduit({ db: options.db });
  const onError =
    options.onError ?? ((error: unknown) => console.error(`${options.name}: unexpected error`, error));
  const binding: Binding = {
    conduit,
    identify(req: IncomingMessage) {
      const principal = exchangeOf(req)?.state.principal;
      return principal === undefined ? undefined : userIdOf(principal.id);
    },
    apiVersion: (req) => apiVersionOf(req),
    onUnexpected: (error) => onError(error),
  };

  const gw = gateway(options.config ?? {}, {
    onError: (error, { exchange, phase }) =>
      onError(
        Object.assign(
          new Error(`${options.name}: gatehouse ${phase} ${exchange?.method ?? ''} ${exchange?.path ?? ''}`),
          { cause: error },
        ),
      ),
  });
  const app = new Koa();
  app.use(gw.errors());
  app.use(gw.tracing());
  app.use(gw.requestId());
  app.use(gw.accessLog(options.accessLog));
  // The caller the gateway signed into x-gatehouse-identity; no identity: anonymous; a forged one: 401.
  app.use(
    gw.auth({
      methods: [identityAuthenticator({ key: options.identityKey, alg: 'EdDSA' })],
      default: 'anonymous',
    }),
  );
  app.use(gw.admin());
  // The version the client asked the gateway for travels in its api-version header; the gateway has
  // refused versions it does not serve and announces them (Deprecation, Sunset): here it only picks
  // the representation.
  app.use(gw.version({ versions: API_VERSIONS, default: '1', headers: false }));

  const router = new Router();
  for (const operation of operationsOf(options.groups)) {
    router[METHODS[operation.method]](operation.path, async (ctx) => {
      write(
        ctx,
        await serveOperation(binding, operation, { req: ctx.req, url: ctx.originalUrl, params: ctx.params }),
      );
    });
  }
  app.use(router.routes());
  // What the monolith answers under /api for a path no operation serves.
  app.use(async (ctx, next) => {
    if (ctx.path === '/api' || ctx.path.startsWith('/api/')) write(ctx, render(notFoundReply()));
    else await next();
  });

  let server: Server | undefined;
  return {
    name: options.name,
    app,
    gw,
    async listen(port = 0, host = '127.0.0.1') {
      server = gw.serve(app.listen(port, host));
      await once(server, 'listening');
      await gw.start();
      return `http://${host}:${(server.address() as AddressInfo).port}`;
    },
    close: () => gw.close(),
    async kill() {
      server?.closeAllConnections();
      await gw.close();
    },
  };
}

/** The versions of the Conduit API the services can answer in (only the tag list differs). */
export const API_VERSIONS = ['1', '2'];

/** The API version of a request as Gatehouse's versioning resolved it, as a number. */
export function apiVersionOf(req: IncomingMessage): number | undefined {
  const text = exchangeOf(req)?.stateIfSet?.apiVersion?.text;
  return text === undefined ? undefined : Number(text);
}

/** The two services the monolith sheds its groups to. */
export const SERVICE_GROUPS = {
  articles: ['articles'],
  profiles: ['profiles'],
} as const satisfies Record<string, readonly OperationGroup[]>;

// The Conduit monolith on Express 4, with or without Gatehouse. Without it, the app checks its own
// JWTs; with it (a gateway built from gatehouse.yaml, mounted before Conduit's routes), gw.auth() does
// and the app reads the principal, and the migration routes may send the articles and profiles groups
// to the Koa services.
import { once } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Binding,
  createConduit,
  createTokens,
  type Database,
  errorReply,
  OPERATIONS,
  render,
  tokenFromHeader,
} from '@gatehousejs/example-realworld-core';
import type { ExpressGateway } from '@gatehousejs/express';
import express, { type ErrorRequestHandler } from 'express';
import { conduitNotFound, conduitRouter, send } from './conduit-routes.js';
import { principalUserId, requestedApiVersion } from './gatehouse.js';

export interface MonolithOptions {
  db: Database;
  /** The HMAC secret Conduit signs its JWTs with (at least 32 bytes; gatehouse.yaml's JWT_SECRET). */
  tokenSecret: Uint8Array;
  /** Gatehouse: the gateway gatehouse.yaml describes (gatehouseFromFile()). Leave out for the plain monolith. */
  gw?: ExpressGateway;
  /** The operators' port (gatehouse.yaml's ADMIN_PORT): a second listener, where the admin needs no key. */
  adminPort?: number;
  /** Faults that are not the client's (500s). Default: one line on stderr. */
  onError?: (error: unknown) => void;
}

export interface Monolith {
  readonly app: express.Express;
  /** The gateway object, when Gatehouse is on. */
  readonly gw: ExpressGateway | undefined;
  /** Listens on `port` (0: any free one) and resolves to the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

export function createMonolith(options: MonolithOptions): Monolith {
  const tokens = createTokens({ secret: options.tokenSecret });
  const conduit = createConduit({ db: options.db, tokens });
  const onError = options.onError ?? ((error: unknown) => console.error('conduit: unexpected error', error));
  const gw = options.gw;

  const app = express();
  // No framework-specific headers: answers must be byte-for-byte those of the Koa services.
  app.disable('x-powered-by');
  app.set('etag', false);

  let identify: Binding['identify'];
  if (gw === undefined) {
    identify = async (req: IncomingMessage) => {
      const token = tokenFromHeader(req.headers.authorization);
      return token === undefined ? undefined : tokens.verify(token);
    };
  } else {
    // Everything gatehouse.yaml describes, in the gateway's order, as one middleware.
    gw.mount(app);
    identify = principalUserId;
  }

  const binding: Binding = {
    conduit,
    identify,
    // Without Gatehouse there are no versions: every answer is RealWorld's (version 1).
    ...(gw === undefined ? {} : { apiVersion: requestedApiVersion }),
    onUnexpected: (error) => onError(error),
  };
  app.use(conduitRouter(binding, OPERATIONS));
  app.use('/api', conduitNotFound);

  // A failure while writing an answer (the operations themselves never throw).
  const lastResort: ErrorRequestHandler = (error, _req, res, next) => {
    if (res.headersSent || gw !== undefined) return next(error);
    send(res, render(errorReply(error, onError)));
  };
  app.use(lastResort);
  if (gw === undefined) app.use(conduitNotFound);
  else app.use(gw.errors());

  let server: Server | undefined;
  return {
    app,
    gw,
    async listen(port = 0, host = '127.0.0.1') {
      server = app.listen(port, host);
      if (gw !== undefined) gw.serve(server);
      await once(server, 'listening');
      // The operators' listener: the same app, where the admin access policy admits everyone.
      if (gw !== undefined && options.adminPort !== undefined) {
        const operators = gw.serve(app.listen(options.adminPort, host));
        await once(operators, 'listening');
      }
      if (gw !== undefined) await gw.start();
      const address = server.address() as AddressInfo;
      return `http://${host}:${address.port}`;
    },
    async close() {
      if (gw !== undefined) await gw.close();
      else if (server !== undefined) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
    },
  };
}

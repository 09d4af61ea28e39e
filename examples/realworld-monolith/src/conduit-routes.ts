// Conduit's operations as Express 4 routes. The answer is written from what the shared core renders
// (status, content type, bytes), so it is identical to what the Koa services send.
import {
  type Binding,
  notFoundReply,
  type Operation,
  type Rendered,
  render,
  serveOperation,
} from '@gatehousejs/example-realworld-core';
import { type RequestHandler, type Response, Router } from 'express';

export function send(res: Response, rendered: Rendered): void {
  res.status(rendered.status);
  if (rendered.cacheControl !== undefined) res.set('cache-control', rendered.cacheControl);
  if (rendered.body === undefined) {
    res.end();
    return;
  }
  res.set('content-type', rendered.contentType);
  res.send(rendered.body);
}

const METHODS = { GET: 'get', POST: 'post', PUT: 'put', DELETE: 'delete' } as const;

/** A router with one route per operation, in table order. */
export function conduitRouter(binding: Binding, operations: readonly Operation[]): Router {
  const router = Router();
  for (const operation of operations) {
    // Express 4 does not catch rejected promises: serveOperation never rejects, and a failure while
    // writing goes to next() and the app's error handler.
    const handler: RequestHandler = (req, res, next) => {
      serveOperation(binding, operation, { req, url: req.originalUrl, params: req.params }).then(
        (rendered) => send(res, rendered),
        next,
      );
    };
    router[METHODS[operation.method]](operation.path, handler);
  }
  return router;
}

/** Conduit's own 404 for paths no operation serves (the same body the services send). */
export const conduitNotFound: RequestHandler = (_req, res) => {
  send(res, render(notFoundReply()));
};

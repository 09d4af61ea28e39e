// @gatehousejs/express is typed against Express 5 (@types/express 5); this app runs Express 4, whose
// type declarations make `app.use(gw.auth())` a type error although it works at run time (the adapter
// uses only what both versions have: req.route, req.baseUrl, next()). This is the one cast, kept
// here instead of at every call; remove it when the adapter declares Express 4 types too.
import type { RequestHandler } from 'express';

type Handler = (...args: never[]) => unknown;

/** Gatehouse middleware (one, or the pair `gw.errors()` returns) typed as Express 4 handlers. */
export function express4(handlers: Handler | readonly Handler[]): RequestHandler[] {
  return (Array.isArray(handlers) ? [...handlers] : [handlers]) as unknown as RequestHandler[];
}

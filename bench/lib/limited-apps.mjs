// The apps of the hand-written limiter floors (no Gatehouse): one middleware spends for the client
// address and sets the two IETF RateLimit fields (429 when refused), in front of the hello route.
// `spend` answers the field value synchronously (hand-limiter.mjs, memory) or as a promise
// (hand-redis-limiter.mjs); a synchronous answer stays synchronous, so the memory floor pays for no
// promise it does not need.
import express from 'express';
import Koa from 'koa';
import { POLICY } from './hand-limiter.mjs';
import { reportListening } from './listening.mjs';

/** @typedef {(key: string) => string | undefined | Promise<string | undefined>} Spend */

/** @param {Spend} spend */
export function startExpressLimited(spend) {
  const app = express();
  app.use((req, res, next) => {
    /** @param {string | undefined} field */
    const answer = (field) => {
      if (field === undefined) return void res.status(429).end();
      res.setHeader('ratelimit-policy', POLICY);
      res.setHeader('ratelimit', field);
      next();
    };
    const field = spend(req.socket.remoteAddress ?? '');
    if (typeof field === 'object') field.then(answer, () => res.status(503).end());
    else answer(field);
  });
  app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
  reportListening(app.listen(0, '127.0.0.1'));
}

/** @param {Spend} spend */
export function startKoaLimited(spend) {
  const app = new Koa();
  app.use((ctx, next) => {
    /** @param {string | undefined} field */
    const answer = (field) => {
      if (field === undefined) {
        ctx.status = 429;
        return;
      }
      ctx.set('ratelimit-policy', POLICY);
      ctx.set('ratelimit', field);
      return next();
    };
    const field = spend(ctx.req.socket.remoteAddress ?? '');
    return typeof field === 'object' ? field.then(answer) : answer(field);
  });
  app.use((ctx) => {
    if (ctx.path === '/hello') ctx.body = { hello: 'world' };
  });
  reportListening(app.listen(0, '127.0.0.1'));
}

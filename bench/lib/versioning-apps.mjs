// The hello-world app of the versioning benchmarks, per framework, with API versioning in front:
// 'gatehouse' (`gw.version()`: the version from a stripped path segment or the `api-version` header,
// a default, the two report headers), 'floor' (the same behaviour hand-written, no Gatehouse: the
// plain-middleware floor the bar is measured over), or 'floor-on-gatehouse' (the floor behind
// a Gatehouse middleware that does nothing: what is left when the adapter and exchange are paid on
// both sides is versioning's own work against the hand-written one).
import { gateway as expressGateway } from '@gatehousejs/express';
import { gateway as koaGateway } from '@gatehousejs/koa';
import express from 'express';
import Koa from 'koa';
import { reportListening } from './listening.mjs';

/** What both sides declare: two versions, the header and a `/v<n>/` path segment, 2 by default. */
export const VERSIONING_OPTIONS = {
  versions: ['1', '2'],
  sources: [{ from: 'path', strip: true }, 'header'],
  default: '2',
};

const SUPPORTED = new Map([
  ['1', '1'],
  ['v1', '1'],
  ['2', '2'],
  ['v2', '2'],
]);
const kVersion = Symbol('bench.apiVersion');

/**
 * The hand-written floor: what a team would write without Gatehouse for the same answers (the
 * version from `/v<n>/…` stripped from `req.url`, or from `api-version`; 400 JSON when unknown or
 * when the two disagree; `api-supported-versions` and `Vary` on every answer), returning the error
 * body to send or undefined.
 * @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res
 */
function handVersion(req, res) {
  res.setHeader('api-supported-versions', '1, 2');
  res.setHeader('vary', 'api-version');
  const url = req.url ?? '/';
  let fromPath;
  if (url.charCodeAt(1) === 0x76 /* v */) {
    const end = url.indexOf('/', 2);
    const segment = url.slice(2, end === -1 ? undefined : end);
    if (/^\d/.test(segment)) {
      fromPath = SUPPORTED.get(segment);
      if (fromPath === undefined) return { status: 400, code: 'unsupported' };
      req.url = end === -1 ? '/' : url.slice(end);
    }
  }
  const header = req.headers['api-version'];
  const fromHeader = header === undefined ? undefined : SUPPORTED.get(String(header).trim());
  if (header !== undefined && fromHeader === undefined) return { status: 400, code: 'unsupported' };
  if (fromPath !== undefined && fromHeader !== undefined && fromPath !== fromHeader)
    return { status: 400, code: 'ambiguous' };
  req[kVersion] = fromPath ?? fromHeader ?? '2';
  return undefined;
}

/** @param {'gatehouse' | 'floor' | 'floor-on-gatehouse'} variant */
export function startExpress(variant) {
  const app = express();
  if (variant === 'gatehouse') {
    const gw = expressGateway({});
    app.use(gw.version(VERSIONING_OPTIONS));
  } else {
    if (variant === 'floor-on-gatehouse') app.use(expressGateway({}).use({ name: 'noop' }));
    app.use((req, res, next) => {
      const refused = handVersion(req, res);
      if (refused === undefined) next();
      else res.status(refused.status).json(refused);
    });
  }
  app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
  reportListening(app.listen(0, '127.0.0.1'));
}

/** @param {'gatehouse' | 'floor' | 'floor-on-gatehouse'} variant */
export function startKoa(variant) {
  const app = new Koa();
  if (variant === 'gatehouse') {
    // No gw.errors(): refusals are rendered by the adapter itself, and the floor has no such wrapper.
    const gw = koaGateway({});
    app.use(gw.version(VERSIONING_OPTIONS));
  } else {
    if (variant === 'floor-on-gatehouse') app.use(koaGateway({}).use({ name: 'noop' }));
    app.use((ctx, next) => {
      const refused = handVersion(ctx.req, ctx.res);
      if (refused === undefined) return next();
      ctx.status = refused.status;
      ctx.body = refused;
      return undefined;
    });
  }
  app.use((ctx) => {
    if (ctx.path === '/hello') ctx.body = { hello: 'world' };
  });
  reportListening(app.listen(0, '127.0.0.1'));
}

/** Cycled on every connection: a path version, a header version, and none (the default). */
export const versionedRequests = [
  { method: 'GET', path: '/v1/hello' },
  { method: 'GET', path: '/hello', headers: { 'api-version': '1' } },
  { method: 'GET', path: '/hello' },
];

/** Both sides must serve the route and announce the versions (a side that skips versioning is not cheaper). */
export function checkVersioned({ body, headers }) {
  if (JSON.parse(body).hello !== 'world') throw new Error(`unexpected body ${body}`);
  if (headers.get('api-supported-versions') !== '1, 2')
    throw new Error(`api-supported-versions was ${headers.get('api-supported-versions')}`);
  if (headers.get('vary') !== 'api-version') throw new Error(`vary was ${headers.get('vary')}`);
}

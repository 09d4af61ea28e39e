// The apps of the OpenAPI benchmarks (issue 17): one synthetic CRUD document of 10 or 200 operations
// (resources of five operations each: list with query parameters, create with a JSON body, get,
// replace and delete by an integer id; shared component schemas through $refs), the same requests
// for every side, and the app per framework with nothing, Gatehouse's gw.validate(), or
// express-openapi-validator (the peer, Express only) in front of one catch-all handler.
import { createServer } from 'node:http';
import { exchangeOf } from '@gatehousejs/core';
import { gateway as expressGateway } from '@gatehousejs/express';
import { gateway as koaGateway } from '@gatehousejs/koa';
import express from 'express';
import Koa from 'koa';
import { reportListening } from './listening.mjs';

/** @param {number} operations a multiple of 5 */
export function openapiDocument(operations) {
  const resources = operations / 5;
  const paths = {};
  const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
  const json = (schema) => ({ content: { 'application/json': { schema } } });
  const id = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
  for (let i = 0; i < resources; i++) {
    paths[`/r${i}`] = {
      get: {
        operationId: `list${i}`,
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0 } },
          { name: 'status', in: 'query', schema: ref('Status') },
        ],
        responses: { 200: { description: 'items', ...json({ type: 'array', items: ref('Item') }) } },
      },
      post: {
        operationId: `create${i}`,
        requestBody: { required: true, ...json(ref('NewItem')) },
        responses: { 201: { description: 'created', ...json(ref('Item')) } },
      },
    };
    paths[`/r${i}/{id}`] = {
      parameters: [id],
      get: { operationId: `get${i}`, responses: { 200: { description: 'an item', ...json(ref('Item')) } } },
      put: {
        operationId: `replace${i}`,
        requestBody: { required: true, ...json(ref('NewItem')) },
        responses: { 200: { description: 'replaced', ...json(ref('Item')) } },
      },
      delete: { operationId: `delete${i}`, responses: { 204: { description: 'deleted' } } },
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: `bench ${operations}`, version: '1.0.0' },
    paths,
    components: {
      schemas: {
        Status: { type: 'string', enum: ['open', 'closed', 'archived'] },
        NewItem: {
          type: 'object',
          required: ['name', 'price'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            price: { type: 'number', minimum: 0 },
            tags: { type: 'array', maxItems: 10, items: { type: 'string', maxLength: 20 } },
            status: ref('Status'),
          },
        },
        Item: {
          allOf: [
            ref('NewItem'),
            { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } },
          ],
        },
      },
    },
  };
}

/** Requests spread over the document (first, middle and last resources), all valid. */
export function openapiRequests(operations) {
  const last = operations / 5 - 1;
  const middle = Math.floor(last / 2);
  const body = JSON.stringify({ name: 'widget', price: 9.5, tags: ['a', 'b'], status: 'open' });
  const headers = { 'content-type': 'application/json' };
  return [
    { method: 'GET', path: `/r${last}/42` },
    { method: 'GET', path: `/r${middle}?limit=10&offset=20&status=open` },
    { method: 'POST', path: '/r0', headers, body },
    { method: 'PUT', path: `/r${last}/17`, headers, body },
  ];
}

/** Candidates must show they validated: the operation id reaches the handler. */
export function checkValidated({ side, headers }) {
  if (side === 'candidate' && !headers.get('x-operation'))
    throw new Error('the candidate did not validate the request (no x-operation header)');
}

const answer = { ok: true };
const NOOP = { operation: 'noop' };
const noop = {
  name: 'noop',
  onRequest(exchange) {
    exchange.state.openapi = NOOP;
  },
};

/**
 * @param {'express' | 'koa'} framework
 * @param {'bare' | 'noop' | 'gatehouse' | 'gatehouse-parsed' | 'eov'} variant
 * @param {number} operations
 */
export async function startOpenapiApp(framework, variant, operations) {
  const document = openapiDocument(operations);
  let listener;
  if (framework === 'express') {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    if (variant === 'gatehouse' || variant === 'gatehouse-parsed') {
      const gw = expressGateway({});
      // 'gatehouse-parsed': the body is parsed once, by the validator; express.json() then keeps it.
      const requests = variant === 'gatehouse-parsed' ? { body: 'parsed' } : {};
      app.use(gw.validate({ document, contractGuard: false, requests }));
      await gw.start();
    } else if (variant === 'noop') {
      // The floor under 'gatehouse': a Gatehouse middleware that does nothing (the adapter and the
      // exchange alone), which then sets the header the check looks for.
      const gw = expressGateway({});
      app.use(gw.use(noop));
    }
    app.use(express.json());
    if (variant === 'eov') {
      const { middleware } = await import('express-openapi-validator');
      app.use(middleware({ apiSpec: document, validateRequests: true, validateResponses: false }));
    }
    app.use((req, res) => {
      const op =
        variant === 'gatehouse' || variant === 'gatehouse-parsed' || variant === 'noop'
          ? exchangeOf(req)?.state.openapi?.operation
          : variant === 'eov'
            ? req.openapi?.schema?.operationId
            : undefined;
      if (op !== undefined) res.setHeader('x-operation', op);
      res.json(answer);
    });
    app.use((error, _req, res, _next) => {
      res.status(error.status ?? 500).json({ message: error.message });
    });
    listener = app;
  } else {
    if (variant === 'eov') throw new Error('express-openapi-validator has no Koa adapter');
    const app = new Koa();
    if (variant === 'gatehouse') {
      const gw = koaGateway({});
      app.use(gw.errors());
      app.use(gw.validate({ document, contractGuard: false }));
      await gw.start();
    } else if (variant === 'noop') {
      // The floor under 'gatehouse' on Koa: gw.errors() and a Gatehouse middleware that does nothing.
      const gw = koaGateway({});
      app.use(gw.errors());
      app.use(gw.use(noop));
    }
    app.use((ctx) => {
      const op = exchangeOf(ctx.req)?.state.openapi?.operation;
      if (op !== undefined) ctx.set('x-operation', op);
      ctx.body = answer;
    });
    listener = app.callback();
  }
  const server = createServer(listener);
  server.listen(0, '127.0.0.1');
  reportListening(server);
}

// The hello-world app of the tracing and access-log benchmarks, per framework, with one Gatehouse
// capability in front: 'noop' (a middleware that does nothing), 'tracing' (no SDK), 'tracing-sdk' (SDK registered first), 'access-log',
// 'auth-jwt' (JWT bearer tokens, static key, verified-token cache on), 'auth-api-key', or
// 'rate-limit-memory' / 'rate-limit-redis' (one window keyed by client address, on memory or on Redis).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiKeyAuthenticator, jwtAuthenticator } from '@gatehousejs/auth';
import { gateway as expressGateway } from '@gatehousejs/express';
import { gateway as koaGateway } from '@gatehousejs/koa';
import { redisStore } from '@gatehousejs/rate-limit';
import express from 'express';
import Koa from 'koa';
import { API_KEY, AUDIENCE, ISSUER } from './auth-fixture.mjs';
import { reportListening } from './listening.mjs';
import { registerSdk } from './otel-sdk.mjs';

const VARIANTS = new Set([
  'noop',
  'tracing',
  'tracing-sdk',
  'access-log',
  'auth-jwt',
  'auth-api-key',
  'rate-limit-memory',
  'rate-limit-redis',
]);

/** @param {import('@gatehousejs/gateway').FrameworkGateway<unknown>} gw @param {string} variant */
function capability(gw, variant) {
  if (!VARIANTS.has(variant)) throw new Error(`unknown variant ${variant}`);
  if (variant === 'noop') return gw.use({ name: 'noop' });
  if (variant === 'auth-jwt') {
    // The benchmark process generated the key pair (auth-fixture.mjs) and passed the public key down.
    const publicJwk = JSON.parse(process.env.GATEHOUSE_BENCH_JWK ?? 'null');
    if (publicJwk === null)
      throw new Error('GATEHOUSE_BENCH_JWK is not set: run this server through bench/run.mjs');
    return gw.auth({
      methods: [
        jwtAuthenticator({
          keys: [{ key: publicJwk, alg: 'RS256', kid: 'bench-1' }],
          issuer: ISSUER,
          audience: AUDIENCE,
        }),
      ],
    });
  }
  if (variant === 'auth-api-key') {
    return gw.auth({
      methods: [apiKeyAuthenticator({ keys: [{ key: API_KEY, id: 'bench-client', scopes: ['read'] }] })],
    });
  }
  if (variant === 'rate-limit-memory' || variant === 'rate-limit-redis') {
    // A window the load never exhausts: every request takes the admitted path (count, headers).
    return gw.rateLimit({
      limits: [{ name: 'api', points: 1_000_000_000, duration: 60 }],
      key: 'ip',
      // Each server process counts in its own namespace, so concurrent sessions never share a bucket.
      prefix: `gatehouse:bench:${process.pid}`,
      ...(variant === 'rate-limit-redis'
        ? { store: redisStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }) }
        : {}),
    });
  }
  if (variant === 'access-log') {
    return gw.accessLog({ destination: join(tmpdir(), `gatehouse-bench-${process.pid}.log`) });
  }
  return gw.tracing();
}

/** @param {string} variant */
export function startExpress(variant) {
  if (variant === 'tracing-sdk') registerSdk();
  const gw = expressGateway({});
  const app = express();
  app.use(capability(gw, variant));
  app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
  reportListening(app.listen(0, '127.0.0.1'));
}

/** @param {string} variant */
export function startKoa(variant) {
  if (variant === 'tracing-sdk') registerSdk();
  const gw = koaGateway({});
  const app = new Koa();
  app.use(capability(gw, variant));
  app.use((ctx) => {
    if (ctx.path === '/hello') ctx.body = { hello: 'world' };
  });
  reportListening(app.listen(0, '127.0.0.1'));
}

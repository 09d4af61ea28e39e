// Helpers for the routes fault, hygiene and stream tests: the monolith of harness.ts on every
// framework at once, raw-socket calls answered by each, and small waiting helpers.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { expectAllSame } from '../support/conformance.js';
import { type RawRequest, type RawResponse, request as rawRequest, sendRaw } from '../support/raw-http.js';
import {
  type BodyProgress,
  FRAMEWORKS,
  type Framework,
  type RoutesApp,
  type RoutesAppSpec,
  startRoutesApp,
} from './harness.js';

export type { BodyProgress };
export { FRAMEWORKS, type Framework };
/** The monolith of harness.ts, under the names these tests use. */
export type AppSpec = RoutesAppSpec;
export type App = RoutesApp;
export const startApp = startRoutesApp;

/** The same app on every framework. */
export async function startBoth(spec: AppSpec): Promise<Record<Framework, App>> {
  const apps = await Promise.all(FRAMEWORKS.map((fw) => startApp(fw, spec)));
  return Object.fromEntries(apps.map((app) => [app.framework, app])) as Record<Framework, App>;
}

export async function closeBoth(apps: Partial<Record<Framework, App>> | undefined): Promise<void> {
  if (apps === undefined) return;
  await Promise.all(FRAMEWORKS.map((fw) => apps[fw]?.close()));
}

/** The route's line of `routes.migration()`. */
export function report(app: App, name: string) {
  const found = app.routes.migration().find((r) => r.name === name);
  if (found === undefined) throw new Error(`no route '${name}' in migration()`);
  return found;
}

/**
 * Sends the same raw request to every app, checks each answer is a problem+json with `status` and
 * `code`, and that every framework answered byte-for-byte the same (generated ids masked).
 */
export async function expectProblemOnBoth(
  apps: Record<Framework, App>,
  req: RawRequest | Buffer,
  want: { status: number; code: string },
): Promise<Record<Framework, RawResponse>> {
  const answers = {} as Record<Framework, RawResponse>;
  for (const fw of FRAMEWORKS) {
    const port = apps[fw].port;
    const res = Buffer.isBuffer(req) ? await sendRaw(port, req) : await rawRequest(port, req);
    expectProblem(res, want, fw);
    answers[fw] = res;
  }
  expectAllSame(answers);
  return answers;
}

/** A problem+json answer with this status and stable code. */
export function expectProblem(res: RawResponse, want: { status: number; code: string }, label: string): void {
  const text = res.body.toString('utf8');
  expect(res.status, `${label}: status (body: ${text.slice(0, 300)})`).toBe(want.status);
  expect(res.headers['content-type']?.[0], `${label}: content type`).toBe('application/problem+json');
  const body = res.json as Record<string, unknown>;
  expect(body.code, `${label}: problem code`).toBe(want.code);
  expect(body.status, `${label}: problem status`).toBe(want.status);
}

/** A loopback port nothing listens on (bound, then released): connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` every 10 ms until it holds; fails after `ms`. */
export async function waitFor(check: () => boolean, ms = 3_000, what = 'a condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Settles with the promise, or rejects after `ms` saying what hung. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A raw WebSocket upgrade request (a fixed, valid Sec-WebSocket-Key) to `path`, with extra headers. */
export const upgradeRequest = (path: string, headers: Record<string, string> = {}) => ({
  path,
  headers: {
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    ...headers,
  },
});

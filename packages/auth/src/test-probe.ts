// Test support (not built into dist): a real HTTP server that runs one authenticator per request on a
// Gatehouse Exchange and keeps what it returned or threw, so unit tests see headers and query strings
// exactly as Node parses them.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type OutgoingHttpHeaders, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Exchange, type GatehouseError, Gateway, isGatehouseError } from '@gatehousejs/core';
import { expect } from 'vitest';
import { refusalReason } from './errors.js';
import type { Authenticator, Principal } from './principal.js';

/** What the authenticator returned, or threw. */
export interface Outcome {
  principal?: Principal | undefined;
  error?: GatehouseError;
}

/** The probe server: `probe()` sends one request through an authenticator; `close()` stops it. */
export interface ProbeServer {
  probe(auth: Authenticator, init?: { headers?: OutgoingHttpHeaders; path?: string }): Promise<Outcome>;
  close(): Promise<void>;
}

/** Starts a probe server on a free loopback port. */
export async function startProbeServer(): Promise<ProbeServer> {
  const gateway = new Gateway({});
  const outcomes = new Map<string, Outcome>();
  const authenticators = new Map<string, Authenticator>();
  const server = createServer(async (req, res) => {
    const id = String(req.headers['x-probe']);
    const exchange = new Exchange(req, res, gateway);
    try {
      outcomes.set(id, { principal: await authenticators.get(id)!.authenticate(exchange) });
    } catch (error) {
      // Kept whatever it is, so that a crash fails the test's assertions instead of hanging the request.
      outcomes.set(id, { error: error as GatehouseError });
    }
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    /** Sends one request through `auth`; array header values are sent as repeated header lines. */
    async probe(auth, init = {}) {
      const id = randomUUID();
      authenticators.set(id, auth);
      const req = request({
        host: '127.0.0.1',
        port,
        path: init.path ?? '/',
        headers: { ...init.headers, 'x-probe': id },
      });
      req.end();
      const [res] = await once(req, 'response');
      res.resume();
      await once(res, 'end');
      authenticators.delete(id);
      const outcome = outcomes.get(id)!;
      outcomes.delete(id);
      return outcome;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

/** Asserts the outcome is a Gatehouse refusal and returns its code, status, reason and message. */
export function refusal(outcome: Outcome) {
  expect(outcome.principal).toBeUndefined();
  expect(outcome.error).toBeDefined();
  const error = outcome.error!;
  expect(isGatehouseError(error), String(error)).toBe(true);
  return { code: error.code, status: error.status, reason: refusalReason(error), message: error.message };
}

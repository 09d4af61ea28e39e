// Refusals decided from the request head alone, when the exchange is made: too many header fields
// and an ambiguous Host. Checked here as well as by `serve()` so that an app that never hands its
// server to the gateway is protected too.
import type { IncomingMessage, Server } from 'node:http';
import { RequestHostInvalid, RequestTooManyHeaders } from './errors.js';

/** The request limits an exchange checks (from the gateway's `limits` configuration). */
export interface RequestLimits {
  /** The most header fields a request may have. */
  readonly maxHeaders: number;
}

/** What the gateway applies when the configuration says nothing. */
export const DEFAULT_REQUEST_LIMITS: RequestLimits = Object.freeze({ maxHeaders: 100 });

/**
 * Why the request must be refused before any middleware runs, or `undefined`.
 *
 * - More than `maxHeaders` header fields → 431 `GH_REQUEST_TOO_MANY_HEADERS`. Counted on
 *   `rawHeaders`. Without `serve()`, Node stops collecting fields at the server's `maxHeadersCount`
 *   (1,000 fields unless set) and drops the rest without a word (Node 20) or refuses the request
 *   itself with a bare 431 (Node 24.21), so a request over the limit still shows more fields than
 *   allowed here; `serve()` lifts Node's count so that every field is counted here.
 * - More than one `Host` field line, or a `Host` holding a list → 400 `GH_REQUEST_HOST_INVALID`
 *   (RFC 9112 §3.2: a server MUST answer 400). Node keeps the first and drops the others, so the app
 *   and an upstream could disagree with a proxy in front about which host was asked for.
 */
export function requestRejection(req: IncomingMessage, limits: RequestLimits | undefined): unknown {
  const raw = req.rawHeaders;
  const max = (limits ?? DEFAULT_REQUEST_LIMITS).maxHeaders;
  if (raw.length > max * 2) {
    return new RequestTooManyHeaders(`The request has more than ${max} header fields`);
  }
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Length first: almost every name is rejected by one comparison.
    if (name.length === 4 && (name === 'host' || name === 'Host' || name.toLowerCase() === 'host')) {
      hosts++;
      if (hosts > 1) return new RequestHostInvalid('The request has more than one Host header');
      if (raw[i + 1]!.includes(','))
        return new RequestHostInvalid('The Host header holds more than one host');
    }
  }
  return undefined;
}

/** The server settings `serve()` applies (the gateway's resolved `limits`). */
export interface ServerLimits {
  readonly maxHeaders: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
}

type TrackedServer = Server & { connectionsCheckingInterval?: number };

/** Node's default `keepAliveTimeout`: a server still using it was not set on purpose. */
const NODE_KEEP_ALIVE_TIMEOUT_MS = 5_000;

const tighter = (current: number, wanted: number) => (current > 0 && current < wanted ? current : wanted);

/**
 * Hardens an HTTP server: every header field is collected (no count limit: the exchange counts them
 * and answers 431 instead of Node dropping or refusing fields beyond its count on its own), the
 * head must arrive within `headersTimeoutMs` and the whole request within `requestTimeoutMs` (Node
 * then answers 408 and closes: a slowloris connection is cut; a stricter value already set on the
 * server is kept), and an idle keep-alive connection is closed after `keepAliveTimeoutMs` (unless the
 * server's `keepAliveTimeout` was changed from Node's default, which is then kept). Node enforces the two request timeouts only when it checks its
 * connections, every 30 s by default; the check runs every quarter of the headers timeout here (at most
 * once a second, at least every 10 ms), so a slow client is cut within 1.25× the timeout.
 */
export function hardenServer(server: Server, limits: ServerLimits): void {
  const tracked = server as TrackedServer;
  // Every field is collected (0: no count limit; the 16 KiB head limit still bounds them), so the
  // exchange counts them all and answers 431 GH_REQUEST_TOO_MANY_HEADERS. With a count limit, Node 20
  // drops fields beyond it without a word, and Node 24.21 refuses the request itself with the code
  // it gives an oversized head (HPE_HEADER_OVERFLOW), which cannot be told apart reliably.
  tracked.maxHeadersCount = 0;
  // Hardening never loosens: a stricter timeout already set on the server stays (0 means none).
  tracked.headersTimeout = tighter(tracked.headersTimeout, limits.headersTimeoutMs);
  tracked.requestTimeout = tighter(tracked.requestTimeout, limits.requestTimeoutMs);
  // A keep-alive timeout set on the server on purpose (longer than a load balancer's idle timeout, so
  // that it never reuses a connection Node is closing) is kept; Node's own default is replaced.
  if (tracked.keepAliveTimeout === NODE_KEEP_ALIVE_TIMEOUT_MS)
    tracked.keepAliveTimeout = limits.keepAliveTimeoutMs;
  const interval = Math.max(10, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4)));
  if ((tracked.connectionsCheckingInterval ?? Number.POSITIVE_INFINITY) <= interval) return;
  tracked.connectionsCheckingInterval = interval;
  // Node arms the check when the server starts listening, with the interval it has then. A server
  // handed over after that (`gw.serve(server)` once 'listening' fired) is re-armed through Node's own
  // listener, which clears the running timer first; without it (another runtime) nothing changes.
  if (!server.listening) return;
  for (const listener of server.listeners('listening')) {
    if ((listener as { name?: string }).name === 'setupConnectionsTracking') {
      (listener as (this: Server) => void).call(server);
      return;
    }
  }
}

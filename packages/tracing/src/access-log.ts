// Structured access logs: one JSON line per finished request, with secrets redacted before the line
// reaches the logger.
import { openSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Annotation,
  type Exchange,
  errorChannel,
  loadPeer,
  type Middleware,
  parseOptions,
} from '@gatehousejs/core';
import { isSpanContextValid } from '@opentelemetry/api';
import type Pino from 'pino';
import { accessLogOptionsSchema } from './options.js';
import { ANNOTATIONS } from './state.js';

/** Any logger with pino's shape works; pino is the default. */
export interface AccessLogger {
  info(obj: object, msg?: string): void;
}

/** Options of {@link accessLog}. */
export interface AccessLogOptions {
  /**
   * Where lines go. Default: a pino logger writing to `destination`, with pino's own redaction
   * configured for the redacted headers and annotations as a second line of defence.
   *
   * @example accessLog({ logger: app.log })
   */
  logger?: AccessLogger;
  /**
   * File path (opened for appending when the middleware is created; an error opening it is thrown
   * then) or file descriptor for the default pino logger; not allowed with `logger`. Default `1`
   * (stdout). Written asynchronously: call `close()` on shutdown to flush and close it (descriptors 1
   * and 2 stay open); pino also flushes on a normal process exit.
   *
   * @example accessLog({ destination: '/var/log/gateway/access.log' })
   */
  destination?: string | number;
  /**
   * Request headers logged under `headers` (names are case-insensitive). Default
   * `['user-agent', 'referer']`. Redacted names are logged as `'[redacted]'`.
   *
   * @example accessLog({ headers: ['user-agent', 'x-tenant'] })
   */
  headers?: readonly string[];
  /**
   * Extra header names or annotation keys whose values are logged as `'[redacted]'` (compared
   * case-insensitively). Always redacted: authorization, proxy-authorization, cookie, set-cookie,
   * x-api-key, api-key, x-auth-token. Default `[]`.
   *
   * @example accessLog({ redact: ['x-tenant-secret', 'app.customer.email'] })
   */
  redact?: readonly string[];
  /**
   * Query parameters are never logged raw. Default (undefined): the query is dropped. A list: the
   * query is logged as an object (repeated parameters as arrays) with every value redacted except
   * those of the listed parameters; `[]` logs the parameter names only.
   *
   * @example accessLog({ queryParameters: ['page', 'limit'] })
   */
  queryParameters?: readonly string[];
  /** Message of each line. Default `'request'`. */
  message?: string;
}

/** The access-log middleware; `close()` flushes the default logger's destination. */
export type AccessLog = Middleware & {
  /** Flushes and closes the default pino destination (no-op with a custom logger). Idempotent. */
  close(): Promise<void>;
};

const REDACTED = '[redacted]';
const ALWAYS_REDACTED: readonly string[] = Object.freeze([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'x-auth-token',
]);
const DEFAULT_HEADERS: readonly string[] = Object.freeze(['user-agent', 'referer']);

/**
 * Body byte counts of one exchange.
 *
 * Bytes are counted on the request and response objects, not on the socket: `socket.bytesRead` and
 * `bytesWritten` deltas include the status line and headers (and chunk framing), are shared by every
 * request of a keep-alive connection, and cannot be attributed once requests are pipelined.
 * - out: every chunk handed to `res.write`/`res.end` (see installCounting), so chunked and streamed
 *   responses are counted; 0 when no body can be sent (HEAD, 1xx, 204, 304). It is what the
 *   application wrote: compression added later in the chain is counted compressed, earlier uncompressed.
 * - in: the declared Content-Length once the request completed (exact: Node's parser enforces it,
 *   and it holds even if a body parser ran before this middleware); otherwise (chunked uploads,
 *   aborted uploads) the decoded body bytes Node's parser pushed into the request since onRequest.
 */
interface Counters {
  bytesIn: number;
  bytesOut: number;
}

// Counters by request and by response. Filled by the prototype wrappers below, only for exchanges an
// access log watches.
const counters = new WeakMap<object, Counters>();

type Write = (this: ServerResponse, chunk: unknown, encoding?: unknown, callback?: unknown) => unknown;
type Push = (this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding) => boolean;

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    return Buffer.byteLength(
      chunk,
      Buffer.isEncoding(encoding as string) ? (encoding as BufferEncoding) : 'utf8',
    );
  }
  return ArrayBuffer.isView(chunk) ? chunk.byteLength : 0;
}

let installed = false;

/**
 * Wraps `ServerResponse.prototype.write/end` and `IncomingMessage.prototype.push` once per process.
 * Wrapping them on each request instead adds three own properties to Node's request and response
 * objects, which measurably slows Express (bench/RESULTS.md); on the prototype the cost for a response
 * nobody logs is one WeakMap miss per write.
 */
function installCounting(): void {
  if (installed) return;
  installed = true;
  const response = ServerResponse.prototype as unknown as { write: Write; end: Write };
  const write = response.write;
  const end = response.end;
  // Counting sits on the response's write path: it must never throw into it.
  response.write = function countedWrite(this: ServerResponse, chunk, encoding, cb) {
    const count = counters.get(this);
    if (count !== undefined && !this.writableEnded) count.bytesOut += byteLength(chunk, encoding);
    return write.call(this, chunk, encoding, cb);
  };
  response.end = function countedEnd(this: ServerResponse, chunk, encoding, cb) {
    const count = counters.get(this);
    if (count !== undefined && !this.writableEnded) count.bytesOut += byteLength(chunk, encoding);
    return end.call(this, chunk, encoding, cb);
  };
  const request = IncomingMessage.prototype as unknown as { push: Push };
  const push = request.push;
  request.push = function countedPush(this: IncomingMessage, chunk, encoding) {
    const count = counters.get(this);
    if (count !== undefined && chunk !== null) count.bytesIn += byteLength(chunk, encoding);
    return push.call(this, chunk, encoding);
  };
}

function bytesIn(req: IncomingMessage, count: Counters | undefined): number {
  if (req.complete) {
    const declared = req.headers['content-length'];
    if (declared !== undefined && /^\d{1,15}$/.test(declared)) return Number(declared);
  }
  return count?.bytesIn ?? 0;
}

function bytesOut(method: string, status: number, count: Counters | undefined): number {
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) return 0;
  return count?.bytesOut ?? 0;
}

interface Resolved {
  logger: AccessLogger | undefined;
  destination: string | number;
  headers: readonly string[];
  redacted: ReadonlySet<string>;
  queryParameters: ReadonlySet<string> | undefined;
  message: string;
}

function resolve(options: AccessLogOptions): Resolved {
  const checked = parseOptions(accessLogOptionsSchema, options, { name: 'accessLog' });
  const { logger, destination = 1, message = 'request' } = checked;
  const headers = checked.headers ?? DEFAULT_HEADERS;
  const redact = checked.redact ?? [];
  return {
    logger,
    destination,
    headers: [...new Set(headers.map((h) => h.toLowerCase()))],
    redacted: new Set([...ALWAYS_REDACTED, ...redact.map((r) => r.toLowerCase())]),
    queryParameters: checked.queryParameters === undefined ? undefined : new Set(checked.queryParameters),
    message,
  };
}

/** Reports a failure that has no exchange (the log destination); never throws. */
function reportDetached(error: unknown): void {
  try {
    if (errorChannel.hasSubscribers) errorChannel.publish({ error, exchange: undefined, phase: 'accessLog' });
    else process.emitWarning(`accessLog: ${error instanceof Error ? error.message : String(error)}`);
  } catch {
    // Nothing left to tell.
  }
}

function defaultLogger(config: Pick<Resolved, 'destination'>): {
  logger: AccessLogger;
  close(): Promise<void>;
} {
  // A path is opened here, synchronously, so that a bad one fails at creation: sonic-boom's own
  // asynchronous open reports failure late and then throws from pino's exit handler.
  const dest =
    typeof config.destination === 'string' ? openSync(config.destination, 'a') : config.destination;
  // pino is required here, when the default logger is made, not imported: an application with its
  // own logger (or no access log) never needs it, nor installs it (an optional peer dependency).
  // CommonJS without an `exports` map: one instance.
  const pino = loadPeer<typeof Pino>('pino', {
    from: import.meta.url,
    path: 'accessLog.logger',
    feature: 'the default access logger (or give your own `logger`)',
  });
  const stream = pino.destination({ dest, sync: false });
  // An unhandled 'error' on the destination would crash the process.
  stream.on('error', reportDetached);
  // No pino `redact`: every line is built redacted (headers, annotations, query), and pino's
  // redaction would run again on each line for nothing. A custom logger gets the same redacted lines.
  const logger = pino({}, stream);
  let closing: Promise<void> | undefined;
  return {
    logger,
    close() {
      closing ??= new Promise<void>((done) => {
        stream.once('close', () => done());
        stream.once('error', () => done());
        try {
          stream.end();
        } catch {
          done();
        }
      });
      return closing;
    },
  };
}

function queryObject(
  exchange: Exchange,
  kept: ReadonlySet<string>,
): Record<string, string | string[]> | undefined {
  const url = exchange.req.url ?? '';
  if (!url.includes('?')) return undefined;
  // No prototype: a parameter called __proto__ is just a key.
  const query: Record<string, string | string[]> = Object.create(null);
  for (const [name, raw] of exchange.query) {
    const value = kept.has(name) ? raw : REDACTED;
    const prior = query[name];
    query[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value];
  }
  return query;
}

/**
 * Writes one structured line per request when it ends (completed or not), including requests refused
 * at the edge. Mount it first so that every request is logged and its bytes are counted.
 *
 * Fields: `request_id`, `trace_id`, `span_id` (valid span contexts only), `method`, `path` (raw, no
 * query), `query` (see `queryParameters`), `route`, `status`, `completed`, `duration_ms`, `bytes_in`,
 * `bytes_out`, `client_ip`, `principal`, `upstream`, `api_version` (from `gw.version()`), `error_code`,
 * `headers`, `annotations`. An error's message or stack is never logged; `error_code` names the
 * problem. Absent values are omitted.
 *
 * @example
 *   const log = accessLog({ destination: '/var/log/gateway/access.log', queryParameters: ['page'] });
 *   app.use(gw.use(log));
 *   process.on('SIGTERM', () => log.close());
 * @throws ConfigError listing every problem in the options.
 */
export function accessLog(options: AccessLogOptions = {}): AccessLog {
  installCounting();
  const config = resolve(options);
  const made = config.logger === undefined ? defaultLogger(config) : undefined;
  const logger = config.logger ?? made!.logger;
  const { headers, redacted, queryParameters, message } = config;
  let closed = false;

  const redactedValue = (name: string, value: Annotation): Annotation =>
    redacted.has(name.toLowerCase()) ? REDACTED : value;

  function line(exchange: Exchange, status: number, completed: boolean, durationMs: number): object {
    const entry: Record<string, unknown> = {};
    if (exchange.requestId !== '') entry.request_id = exchange.requestId;
    const span = exchange.state.span?.spanContext();
    if (span !== undefined && isSpanContextValid(span)) {
      entry.trace_id = span.traceId;
      entry.span_id = span.spanId;
    }
    entry.method = exchange.method;
    entry.path = exchange.rawPath;
    if (queryParameters !== undefined) {
      const query = queryObject(exchange, queryParameters);
      if (query !== undefined) entry.query = query;
    }
    const route = exchange.matchedRoute;
    if (route !== undefined) entry.route = route;
    entry.status = status;
    entry.completed = completed;
    entry.duration_ms = Math.round(durationMs * 1000) / 1000;
    const count = counters.get(exchange.res);
    entry.bytes_in = bytesIn(exchange.req, count);
    entry.bytes_out = bytesOut(exchange.method, status, count);
    entry.client_ip = exchange.clientIp;
    const annotations = exchange.annotations;
    const principal = annotations.get(ANNOTATIONS.principalId);
    if (principal !== undefined) entry.principal = redactedValue(ANNOTATIONS.principalId, principal);
    const upstream = annotations.get(ANNOTATIONS.upstream);
    if (upstream !== undefined) entry.upstream = redactedValue(ANNOTATIONS.upstream, upstream);
    const apiVersion = annotations.get(ANNOTATIONS.apiVersion);
    if (apiVersion !== undefined) entry.api_version = redactedValue(ANNOTATIONS.apiVersion, apiVersion);
    if (exchange.problemCode !== undefined) entry.error_code = exchange.problemCode;
    let logged: Record<string, string> | undefined;
    for (const name of headers) {
      const value = exchange.header(name);
      if (value === undefined) continue;
      logged ??= {};
      logged[name] = redacted.has(name) ? REDACTED : value;
    }
    if (logged !== undefined) entry.headers = logged;
    let others: Record<string, Annotation> | undefined;
    for (const [key, value] of annotations) {
      if (key === ANNOTATIONS.principalId || key === ANNOTATIONS.upstream || key === ANNOTATIONS.apiVersion)
        continue;
      others ??= Object.create(null) as Record<string, Annotation>;
      others[key] = redactedValue(key, value);
    }
    if (others !== undefined) entry.annotations = others;
    return entry;
  }

  return {
    name: 'accessLog',
    alwaysRun: true,
    onRequest(exchange) {
      if (counters.has(exchange.res)) return undefined;
      const count: Counters = { bytesIn: 0, bytesOut: 0 };
      counters.set(exchange.res, count);
      counters.set(exchange.req, count);
      return undefined;
    },
    onFinish(exchange, outcome) {
      if (closed) return;
      try {
        logger.info(line(exchange, outcome.status, outcome.completed, outcome.durationMs), message);
      } catch (error) {
        exchange.runtime.report(error, exchange, 'accessLog.onFinish');
      }
    },
    close() {
      closed = true;
      return made === undefined ? Promise.resolve() : made.close();
    },
  };
}

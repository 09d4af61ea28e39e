// Renders errors and replies into bytes and headers once, in core, so that the Express and the Koa
// adapter send byte-identical answers: they only copy status, headers and body into their framework.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppError, GatehouseError, InternalError, isGatehouseError, NotFound, statusText } from './errors.js';
import type { Exchange } from './exchange.js';
import { isSafeHeaderValue } from './headers.js';
import type { Reply } from './middleware.js';

/** A response ready to write: the adapters copy it into their framework unchanged. */
export interface RenderedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** The RFC 9457 problem document Gatehouse sends for a refusal or an error. */
export interface ProblemDocument {
  /** `typeBase` and the code: `urn:gatehouse:error:GH_AUTH_REQUIRED`. */
  readonly type: string;
  readonly title: string;
  readonly status: number;
  /** What happened, when the error may be shown; else the title. */
  readonly detail: string;
  /** The stable `GH_…` code. */
  readonly code: string;
  readonly requestId?: string;
  /** The error's extensions, when it may be shown (`required_scopes`, `errors`, …). */
  readonly [extension: string]: unknown;
}

/** The body a {@link ProblemRenderer} sends instead of the problem document. */
export interface RenderedBody {
  /** A JSON-serialisable value (sent as JSON), a string, or bytes. */
  body: object | string | Uint8Array;
  /**
   * The `Content-Type`. Default: `application/json; charset=utf-8` for a value, `text/plain;
   * charset=utf-8` for a string, `application/octet-stream` for bytes.
   */
  contentType?: string;
}

/**
 * Renders a refusal in the application's own error format instead of RFC 9457 problem details: it gets
 * the problem document Gatehouse would send and the request's exchange (undefined for a request Node
 * could not parse), and returns the body to send, or `undefined` to send the problem document. The
 * status, the headers (a challenge, `Retry-After`, rate-limit headers) and the code in logs and metrics
 * never change; only the body and its `Content-Type` do. Such an answer is not RFC 9457, by the
 * application's choice.
 */
export type ProblemRenderer = (
  problem: ProblemDocument,
  exchange: Exchange | undefined,
) => RenderedBody | undefined;

/** Options that shape rendered problems (from the gateway configuration and options). */
export interface ProblemOptions {
  /** Prefix of the `type` URI; the error code is appended. Default `urn:gatehouse:error:`. */
  typeBase: string;
  /**
   * Renders refusals in the application's format (`gateway(config, { problems: { render } })`);
   * see {@link ProblemRenderer}. Default: none, every refusal is problem+json.
   */
  render?: ProblemRenderer;
}

/** The rendering of one problem: the options, and the exchange a renderer is given. */
export type RenderProblemOptions = ProblemOptions & { readonly exchange?: Exchange };

const DEFAULT_PROBLEM_OPTIONS: ProblemOptions = { typeBase: 'urn:gatehouse:error:' };
const PROBLEM_TYPE = 'application/problem+json';
const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const BYTES_TYPE = 'application/octet-stream';
// Members a problem's extensions may not override (RFC 9457 §3.1 plus ours).
const RESERVED = new Set(['type', 'title', 'status', 'detail', 'instance', 'code', 'requestId']);

/**
 * Turns anything thrown into a GatehouseError. Errors shaped like http-errors (a numeric `status` or
 * `statusCode` from 400 to 599, as Koa's ctx.throw, body-parser and Express produce) keep their status;
 * `expose` is honoured. Anything else — an error Gatehouse defines for reports only (status 0) among
 * them — is a 500 whose message is never shown.
 */
export function toGatehouseError(error: unknown): GatehouseError {
  // Errors defined with status 0 (a ConfigError, a dependency report) are never meant for a client:
  // one thrown while answering (gw.client('unknown') in a handler) is an internal error, its message kept
  // for the report and never rendered (it may list the configured services).
  if (isGatehouseError(error))
    return error.status === 0 ? new InternalError(undefined, { cause: error }) : error;
  if (typeof error === 'object' && error !== null) {
    const e = error as { status?: unknown; statusCode?: unknown; expose?: unknown; message?: unknown };
    const status = typeof e.status === 'number' ? e.status : e.statusCode;
    if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599) {
      const expose = typeof e.expose === 'boolean' ? e.expose : status < 500;
      const spec =
        status === 404
          ? NotFound.spec
          : { code: AppError.spec.code, status, title: statusText(status), expose };
      const message = typeof e.message === 'string' && e.message !== '' ? e.message : undefined;
      return new GatehouseError({ ...spec, expose }, message, { cause: error });
    }
  }
  return new InternalError(undefined, { cause: error });
}

/**
 * The bytes and content type of a renderer's answer.
 *
 * @throws TypeError for a body that is not a value, a string or bytes (or does not serialise), or a
 *   content type that is not a valid header value.
 */
export function renderedBodyBytes(rendered: RenderedBody): { body: Buffer; contentType: string } {
  if (typeof rendered !== 'object' || rendered === null)
    throw new TypeError('problems.render: expected { body, contentType? } or undefined');
  const { body, contentType } = rendered;
  if (
    contentType !== undefined &&
    (typeof contentType !== 'string' || !isSafeHeaderValue(contentType) || contentType === '')
  )
    throw new TypeError('problems.render: contentType must be a header value');
  if (typeof body === 'string') return { body: Buffer.from(body), contentType: contentType ?? TEXT_TYPE };
  if (body instanceof Uint8Array)
    return {
      body: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
      contentType: contentType ?? BYTES_TYPE,
    };
  if (typeof body !== 'object' || body === null)
    throw new TypeError('problems.render: body must be a JSON value (object or array), a string or bytes');
  const text = JSON.stringify(body);
  if (typeof text !== 'string') throw new TypeError('problems.render: body does not serialise to JSON');
  return { body: Buffer.from(text), contentType: contentType ?? JSON_TYPE };
}

/**
 * Renders an error as an RFC 9457 problem details response, or, when `options.render` gives one, as
 * the application's own body with the same status and headers.
 */
export function renderProblem(
  error: unknown,
  requestId?: string,
  options: RenderProblemOptions = DEFAULT_PROBLEM_OPTIONS,
): RenderedResponse {
  const err = toGatehouseError(error);
  const status = err.status >= 400 && err.status <= 599 ? err.status : 500;
  const problem: Record<string, unknown> = {
    type: options.typeBase + err.code,
    title: err.title,
    status,
    detail: err.detail,
    code: err.code,
  };
  if (requestId) problem.requestId = requestId;
  if (err.expose && err.extensions) {
    for (const key of Object.keys(err.extensions)) {
      if (!RESERVED.has(key) && key !== '__proto__') problem[key] = err.extensions[key];
    }
  }
  let body: Buffer | undefined;
  let contentType = PROBLEM_TYPE;
  if (options.render !== undefined) {
    try {
      const custom = options.render(Object.freeze(problem) as ProblemDocument, options.exchange);
      if (custom !== undefined) ({ body, contentType } = renderedBodyBytes(custom));
    } catch {
      // A renderer that fails leaves the problem document (the gateway's renderer reports it first).
      body = undefined;
      contentType = PROBLEM_TYPE;
    }
  }
  body ??= Buffer.from(JSON.stringify(problem));
  const headers: Record<string, string> = {};
  if (err.headers) {
    for (const name of Object.keys(err.headers)) headers[name.toLowerCase()] = err.headers[name]!;
  }
  headers['content-type'] = contentType;
  headers['content-length'] = String(body.length);
  headers['cache-control'] = 'no-store';
  return { status, headers, body };
}

/** Renders a {@link Reply} from `onRequest`. */
export function renderReply(reply: Reply): RenderedResponse {
  const headers: Record<string, string> = {};
  let contentType: string | undefined;
  if (reply.headers) {
    for (const name of Object.keys(reply.headers)) {
      const lower = name.toLowerCase();
      if (lower === 'content-length') continue;
      if (lower === 'content-type') contentType = reply.headers[name];
      else headers[lower] = reply.headers[name]!;
    }
  }
  const { body } = reply;
  let bytes: Buffer;
  if (body === undefined || body === null) {
    bytes = Buffer.alloc(0);
  } else if (typeof body === 'string') {
    bytes = Buffer.from(body);
    contentType ??= TEXT_TYPE;
  } else if (body instanceof Uint8Array) {
    bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    contentType ??= BYTES_TYPE;
  } else {
    bytes = Buffer.from(JSON.stringify(body));
    contentType ??= JSON_TYPE;
  }
  // 204 and 304 have no content and MUST NOT carry Content-Length (RFC 9110 §8.6); Koa drops it
  // and Express would send `0`, so it is left out here for both.
  if (reply.status === 204 || reply.status === 304) {
    return { status: reply.status, headers, body: Buffer.alloc(0) };
  }
  if (contentType !== undefined) headers['content-type'] = contentType;
  headers['content-length'] = String(bytes.length);
  return { status: reply.status, headers, body: bytes };
}

/**
 * Writes a rendered response on a raw Node response. Used by the Express adapter and for errors that
 * arrive before any framework runs. If headers are already out, the response cannot become a problem
 * any more: the connection is destroyed so the client sees a failure, never a truncated success.
 */
export function writeRendered(res: ServerResponse, rendered: RenderedResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = rendered.status;
  for (const name of Object.keys(rendered.headers)) res.setHeader(name, rendered.headers[name]!);
  res.end(rendered.body);
}

// Headers that describe a body we are about to replace; anything else already set (a request id,
// rate-limit headers) stays on the problem response.
const BODY_HEADERS = [
  'content-encoding',
  'content-language',
  'content-range',
  'content-disposition',
  'content-location',
  'etag',
  'last-modified',
  'transfer-encoding',
];

/**
 * Writes a rendered answer straight onto a connection that has no ServerResponse (a request Node could
 * not parse, an Upgrade request), with `Connection: close`, and ends it. `rendered` carries its own
 * Content-Length; `extra` adds headers (a request id).
 */
export function writeRenderedToSocket(
  socket: Duplex,
  rendered: RenderedResponse,
  extra: Readonly<Record<string, string>> = {},
): void {
  if (!socket.writable || socket.destroyed) return;
  let head = `HTTP/1.1 ${rendered.status} ${statusText(rendered.status)}\r\n`;
  for (const name of Object.keys(rendered.headers)) head += `${name}: ${rendered.headers[name]}\r\n`;
  for (const name of Object.keys(extra)) head += `${name}: ${extra[name]}\r\n`;
  head += 'connection: close\r\n\r\n';
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), rendered.body]));
}

/** Removes headers that described a body the problem now replaces. */
export function clearBodyHeaders(res: ServerResponse): void {
  if (res.headersSent) return;
  for (const name of BODY_HEADERS) res.removeHeader(name);
}

// What the framework bindings share: reading a JSON body from the Node request, and turning an
// operation's reply (or error) into the exact status, content type and bytes to send. The monolith
// (Express) and the services (Koa) both write what render() returns, never their framework's own
// serializer, so their answers are byte-for-byte the same.
import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import { ConduitError } from './errors.js';

/** What an operation answers: a status and a JSON value (none for 204). */
export interface Reply {
  status: number;
  body?: unknown;
  /** A `Cache-Control` value, for answers a shared cache may keep (or must not). */
  cacheControl?: string;
}

/** A reply ready to write. */
export interface Rendered {
  status: number;
  /** `application/json; charset=utf-8`, or undefined when there is no body. */
  contentType: string | undefined;
  body: string | undefined;
  /** The `Cache-Control` header to send, if any. */
  cacheControl?: string;
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** The largest request body accepted (articles are text; 1 MiB is generous). */
export const MAX_BODY_BYTES = 1024 * 1024;

export function render(reply: Reply): Rendered {
  const cache = reply.cacheControl === undefined ? {} : { cacheControl: reply.cacheControl };
  if (reply.body === undefined)
    return { status: reply.status, contentType: undefined, body: undefined, ...cache };
  return { status: reply.status, contentType: JSON_CONTENT_TYPE, body: JSON.stringify(reply.body), ...cache };
}

/** The RealWorld error body: `{"errors":{"body":[…]}}`. */
export function errorBody(messages: readonly string[]) {
  return { errors: { body: [...messages] } };
}

/**
 * The reply for a thrown error: a ConduitError as itself, anything else as a 500 whose message never
 * leaves the process (`onUnexpected` gets it, to log or report).
 */
export function errorReply(error: unknown, onUnexpected: (error: unknown) => void): Reply {
  if (error instanceof ConduitError) return { status: error.status, body: errorBody(error.messages) };
  onUnexpected(error);
  return { status: 500, body: errorBody(['internal server error']) };
}

/** The reply for a path and method no operation serves. */
export function notFoundReply(): Reply {
  return { status: 404, body: errorBody(['no such route']) };
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Reads the request body as JSON: undefined when there is none, the parsed value otherwise. One
 * implementation for both frameworks (rather than express.json() here and a Koa body parser there),
 * so a malformed or oversized body is refused with the same answer on every side.
 *
 * @throws ConduitError 415 (not JSON), 413 (over {@link MAX_BODY_BYTES}), 400 (not parseable)
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (length === undefined || length === '0')) return undefined;
  const type = req.headers['content-type'];
  if (type === undefined || !JSON_TYPE.test(type)) {
    req.resume();
    throw new ConduitError(415, ['request body must be application/json']);
  }
  let text: string;
  try {
    text = await getRawBody(req, { limit: MAX_BODY_BYTES, encoding: 'utf8', length });
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 413) throw new ConduitError(413, ['request body too large']);
    throw new ConduitError(400, ['request body could not be read']);
  }
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ConduitError(400, ['request body is not valid JSON']);
  }
}

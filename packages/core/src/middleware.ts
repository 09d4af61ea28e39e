// The middleware contract: three named phases instead of an onion, because Express's next() never
// reports when downstream finished. Both adapters map these phases onto their framework identically.
import type { Exchange } from './exchange.js';

/** Returned by `onRequest` when the middleware wrote the response itself (streaming, proxying). */
export const HANDLED: unique symbol = Symbol.for('gatehouse.handled');

/** A short-circuit answer from `onRequest`; the adapter writes it natively. */
export interface Reply {
  /** HTTP status code. */
  status: number;
  /** Response headers; `content-type` defaults from the body (JSON or text). */
  headers?: Record<string, string>;
  /** A string (text/plain), bytes (application/octet-stream) or a JSON-serialisable value. */
  body?: string | Uint8Array | object | null;
}

/** What `onRequest` may return: nothing to continue, a {@link Reply} to answer, or {@link HANDLED}. */
export type RequestResult = undefined | Reply | typeof HANDLED;

/** How an exchange ended, given to `onFinish`. */
export interface Outcome {
  /** The status code that was sent (or would have been, when the client went away first). */
  readonly status: number;
  /** True when the response was completely written; false when the connection closed first. */
  readonly completed: boolean;
  /** Milliseconds since the exchange was created. */
  readonly durationMs: number;
}

/**
 * A framework-neutral middleware. Every phase is optional.
 *
 * - `onRequest` may answer (return a {@link Reply} or throw a GatehouseError) or continue (return
 *   nothing). It may be async; a synchronous one costs no promise.
 * - `onResponse` runs synchronously just before the status line and headers are written, in reverse
 *   order of entry, for every middleware whose `onRequest` was reached (including one that answered).
 * - `onFinish` runs after the response ended or the client went away. It must not throw; an error
 *   thrown there is reported on the `gatehouse:error` channel and otherwise ignored.
 */
export interface Middleware {
  /** Shown in errors and diagnostics. */
  readonly name: string;
  /**
   * Run `onRequest` even for a request refused at the edge (an invalid path), before the refusal is
   * sent: for request ids, tracing and logs. Such a middleware must not decide anything from the path.
   */
  readonly alwaysRun?: boolean;
  // biome-ignore lint/suspicious/noConfusingVoidType: lets `async onRequest() { … }` return nothing
  onRequest?(exchange: Exchange): RequestResult | void | Promise<RequestResult | void>;
  onResponse?(exchange: Exchange): void;
  onFinish?(exchange: Exchange, outcome: Outcome): void;
}

export function isThenable<T>(value: unknown): value is PromiseLike<T> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * One middleware made of several, run in order. An answer (or an error) from one stops the rest,
 * exactly as if each had been mounted on its own.
 */
export function compose(...middleware: Array<Middleware | readonly Middleware[]>): Middleware {
  const list: readonly Middleware[] = middleware.flat();
  for (const [i, mw] of list.entries()) {
    if (typeof mw !== 'object' || mw === null || typeof mw.name !== 'string') {
      throw new TypeError(`compose(): argument ${i} is not a Gatehouse middleware`);
    }
  }
  return {
    name: `compose(${list.map((mw) => mw.name).join(', ')})`,
    // The composite runs on a refused request when any member must; runFrom then skips the others.
    alwaysRun: list.some((mw) => mw.alwaysRun === true),
    onRequest: (exchange) => runFrom(exchange, list, 0),
  };
}

function runFrom(
  exchange: Exchange,
  list: readonly Middleware[],
  start: number,
): RequestResult | Promise<RequestResult> {
  for (let i = start; i < list.length; i++) {
    const mw = list[i]!;
    exchange.track(mw);
    if (mw.onRequest === undefined) continue;
    if (exchange.rejection !== undefined && mw.alwaysRun !== true) continue;
    const result = mw.onRequest(exchange) as RequestResult | Promise<RequestResult>;
    if (result === undefined) continue;
    if (isThenable<RequestResult>(result)) {
      return Promise.resolve(result).then((value) =>
        value === undefined ? runFrom(exchange, list, i + 1) : value,
      );
    }
    return result;
  }
  return undefined;
}
